"""A real Secret Service for the keychain tests: gnome-keyring on a private D-Bus session.

`dbus-run-session` starts a session bus of its own (nothing of the developer's desktop is
touched) and runs gnome-keyring-daemon in it, unlocked with a throwaway password, its
keyrings in a temporary directory. The `keyring` library reaches it through the
SecretService backend (secretstorage over D-Bus), exactly as on a Linux desktop.
`.ci/run` installs gnome-keyring and dbus-daemon; without them the tests fail with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

_DAEMON = """#!/bin/sh
echo "$DBUS_SESSION_BUS_ADDRESS" > "$ORX_TEST_BUS_FILE.tmp" && mv "$ORX_TEST_BUS_FILE.tmp" "$ORX_TEST_BUS_FILE"
printf 'orx-test-keyring' | exec gnome-keyring-daemon --unlock --components=secrets --foreground
"""

# one real round trip through the service: the backend is chosen and answers
_PROBE = """
import keyring
backend = keyring.get_keyring()
assert type(backend).__module__ == "keyring.backends.SecretService", backend
keyring.set_password("orx-elastic-probe", "probe", "ok")
assert keyring.get_password("orx-elastic-probe", "probe") == "ok"
keyring.delete_password("orx-elastic-probe", "probe")
"""


class SecretServiceError(RuntimeError):
    pass


class SecretService:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.bus_file = workdir / "bus-address"
        self.log_path = workdir / "daemon.log"
        self.address = ""
        self._proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this service (and only it)."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def start(self, timeout: float = 30.0) -> None:
        missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
        if missing:
            raise SecretServiceError(f"{' and '.join(missing)} not installed: apt-get install gnome-keyring "
                                     "dbus-daemon (.ci/run does)")
        script = self.workdir / "daemon.sh"
        script.write_text(_DAEMON)
        (self.workdir / "data").mkdir(mode=0o700, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir),
               "XDG_DATA_HOME": str(self.workdir / "data"), "ORX_TEST_BUS_FILE": str(self.bus_file)}
        with open(self.log_path, "wb") as log:
            # a process group of its own: stop() ends the bus and the daemon together, and nothing else
            self._proc = subprocess.Popen(["dbus-run-session", "--", "sh", str(script)], env=env, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        problem = "no bus address"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SecretServiceError(f"the Secret Service exited ({self._proc.returncode}): {self._log_tail()}")
            if self.bus_file.exists():
                self.address = self.bus_file.read_text().strip()
                probe = subprocess.run([sys.executable, "-c", _PROBE], env={**os.environ, **self.env},
                                       capture_output=True, text=True, timeout=30)
                if probe.returncode == 0:
                    return
                problem = (probe.stderr.strip().splitlines() or ["?"])[-1]
            time.sleep(0.2)
        self.stop()
        raise SecretServiceError(f"the Secret Service did not answer in {timeout:g}s: {problem}; {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-3:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)  # our own group, by its id
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

"""Running the node as an unprivileged user, and never leaving one behind.

Elasticsearch refuses to run as root: as root, the node runs as ``orx-es`` from a
hard-linked copy of the distribution. Each node is its own process group, stopped
as a whole; an atexit/signal hook stops the nodes this process started.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, List, Optional, Set

from es_sandbox.common import ESSandboxError

ES_SYSTEM_USER = "orx-es"  # the node's OS user when we run as root
NODE_WORKDIR_PREFIX = "orx-es-"  # a single node's temp dir
CLUSTER_WORKDIR_PREFIX = "orx-esc-"  # a cluster member's: not matched by orx-es-* (older sweeps)


def ensure_system_user() -> tuple:
    import pwd

    try:
        pw = pwd.getpwnam(ES_SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        proc = subprocess.run(
            [useradd, "--system", "--no-create-home", "--user-group",
             "--shell", "/usr/sbin/nologin", ES_SYSTEM_USER],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if proc.returncode not in (0, 9):  # 9: exists (race with another process)
            raise ESSandboxError(
                f"Elasticsearch refuses to run as root and creating user {ES_SYSTEM_USER!r} "
                f"failed: {proc.stdout.strip()}"
            ) from None
        pw = pwd.getpwnam(ES_SYSTEM_USER)
    return pw.pw_uid, pw.pw_gid


def chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def link_tree(src: Path, dst: Path) -> None:
    """Hard-link (or copy, across filesystems) a distribution tree."""
    same_fs = os.stat(src).st_dev == os.stat(dst.parent).st_dev

    def copy(s, d):
        if same_fs:
            try:
                os.link(s, d)
                return d
            except OSError:
                pass
        return shutil.copy2(s, d)

    shutil.copytree(src, dst, symlinks=True, copy_function=copy)
    for dirpath, _dirs, _files in os.walk(dst):
        os.chmod(dirpath, 0o755)


# --------------------------------------------------------------------------
# process cleanup


# nodes to stop when this process exits: anything with a stop() method
LIVE: Set[Any] = set()
LIVE_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


def _stop_all() -> None:
    with LIVE_LOCK:
        nodes = list(LIVE)
    for node in nodes:
        try:
            node.stop()
        except Exception as exc:  # noqa: BLE001 — best effort at exit  # pragma: no cover
            print(f"es_sandbox: stopping {node!r} failed: {exc}", file=sys.stderr)


def install_handlers() -> None:
    """atexit + SIGTERM/SIGINT/SIGHUP: never leave a node behind."""
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous = signal.getsignal(signum)

        def handler(sig, frame, _previous=previous):
            _stop_all()
            if callable(_previous):
                return _previous(sig, frame)
            if _previous == signal.SIG_IGN:
                return None
            if sig == signal.SIGINT:
                raise KeyboardInterrupt
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)

        with contextlib.suppress(ValueError, OSError):  # pragma: no cover
            signal.signal(signum, handler)


def child_preexec(uid: Optional[int], gid: Optional[int], die_with_parent: bool):
    """Runs in the child between fork and exec: drop root, then ask for a death signal.

    The order matters: changing credentials clears PR_SET_PDEATHSIG, so it is
    set after setuid; and ``prctl`` is looked up before the fork, because after
    setuid the child may not be able to import anything (a Python under /root).
    """

    prctl = None
    if die_with_parent:
        # Resolved here, in the parent: after setuid the child may not be able
        # to import anything (e.g. a Python under /root, which is 0700).
        try:
            import ctypes

            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            prctl = None
    kill = int(signal.SIGKILL)

    def preexec():
        if gid is not None:
            os.setgroups([])
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
        if prctl is not None:
            prctl(1, kill, 0, 0, 0)  # PR_SET_PDEATHSIG

    return preexec


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def kill_group(pgid: int, grace: float = 20.0) -> None:
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        # reap our own child if it is one, so it does not linger as a zombie
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(-pgid, os.WNOHANG)
        if not group_alive(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and group_alive(pgid):
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(-pgid, os.WNOHANG)
        time.sleep(0.1)


def group_is_ours(pgid: int, workdir: str) -> bool:
    """True when some process of group ``pgid`` runs with ``workdir`` in its command line."""
    proc = Path("/proc")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            env = b""
            with contextlib.suppress(OSError):
                env = (entry / "environ").read_bytes()
            if workdir in cmd or workdir.encode() in env:
                return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def mark_kept(workdir: Path) -> None:
    """A stopped node's dir that its owner (this process) will start again: ``es.pid`` becomes
    ``es.kept`` naming the owner, so a sweep leaves it while the owner lives."""
    with contextlib.suppress(FileNotFoundError):
        (workdir / "es.pid").unlink()
    (workdir / "es.kept").write_text(f"{os.getpid()}\n")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def sweep_stale_workdirs(min_age: float = 120.0) -> List[str]:
    """Remove node temp dirs left by a process killed with SIGKILL.

    Only dirs that record a pid (``es.pid``) whose process group is gone, or the owner of a
    stopped node kept for a restart (``es.kept``) who is gone, and that were not touched for
    ``min_age`` seconds: never a starting node's.
    """
    removed = []
    now = time.time()
    tmp = Path(tempfile.gettempdir())
    for d in [*tmp.glob(NODE_WORKDIR_PREFIX + "*"), *tmp.glob(CLUSTER_WORKDIR_PREFIX + "*")]:
        pid_file, kept_file = d / "es.pid", d / "es.kept"
        try:
            if not d.is_dir() or now - d.stat().st_mtime < min_age:
                continue
            if kept_file.exists() and not pid_file.exists():
                if not _pid_alive(int(kept_file.read_text().split()[0])):
                    shutil.rmtree(d, ignore_errors=True)
                    removed.append(str(d))
                continue
            if not pid_file.exists():
                continue
            pgid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        # alive but not ours: the pid was reused, the node is gone all the same
        if not group_alive(pgid) or not group_is_ours(pgid, str(d)):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    return removed

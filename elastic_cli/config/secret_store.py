"""Secrets kept outside the config file: `$(keychain:NAME)`, `$(env:VAR)` and `$(file:PATH)`.

A profile's api_key may be such a reference instead of the key itself (the syntax of
Elastic's own CLI). Resolving one gives the secret or a SecretUnavailable (a ConfigError,
exit 3) that says which reference failed and how to fix it; the secret is registered for
redaction as soon as it is read, and never appears in a message.

The keychain is the `keyring` library (the optional extra `orx-elastic[keychain]`), imported
only when a keychain reference is read or written, so `--help` and completion stay fast.
Entries live under the service SERVICE; the tool names its own `<profile>/api_key`.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from elastic_cli.errors import ConfigError

SERVICE = "orx-elastic"
KINDS = ("keychain", "env", "file")
MAX_FILE_BYTES = 4096  # an API key is ~22 characters, its encoded form ~60: more is not a key file
INSTALL_HINT = "install it: pip install 'orx-elastic[keychain]' (or pipx inject orx-elastic keyring)"
_REF = re.compile(r"\$\((?P<kind>[a-z]+):(?P<target>.*)\)", re.S)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SecretUnavailable(ConfigError):
    """A reference that cannot be resolved, or a keychain that cannot be written (exit 3)."""


@dataclass(frozen=True)
class SecretRef:
    kind: str    # keychain | env | file
    target: str  # entry name, variable name, or path as written
    text: str    # the reference as written: safe to show, it holds no secret

    @property
    def where(self) -> str:
        """Where the secret lives, in words (config show, check)."""
        if self.kind == "keychain":
            return f"keychain entry '{self.target}' (service {SERVICE})"
        if self.kind == "env":
            return f"environment variable {self.target}"
        return f"file {self.target}"


def keychain_ref(name: str) -> str:
    return f"$(keychain:{name})"


def own_entry(profile: str) -> str:
    """The keychain entry the tool itself uses for a profile's api_key."""
    return f"{profile}/api_key"


def parse_ref(value: Any) -> SecretRef | None:
    """The reference a value holds, None for a plain value; ValueError for a malformed one.

    A real key is base64 or base64url text, so a value starting with `$(` is never a key."""
    if not isinstance(value, str) or not value.strip().startswith("$("):
        return None
    text = value.strip()
    match = _REF.fullmatch(text)
    if not match:
        raise ValueError("looks like a reference but is not $(keychain:NAME), $(env:VAR) or $(file:PATH)")
    kind, target = match.group("kind"), match.group("target").strip()
    if kind not in KINDS:
        raise ValueError(f"refers to an unknown store '{kind}' (use keychain, env or file)")
    if not target:
        raise ValueError(f"has an empty {kind} name")
    if kind == "env" and not _ENV_NAME.fullmatch(target):
        raise ValueError(f"names an invalid environment variable {target[:60]!r}")
    return SecretRef(kind, target, text)


def register_key(value: str | None) -> None:
    """Mask an api_key given by hand in every message, unless it is a reference: `$(env:X)` names
    where the key is, and the messages about it must stay readable."""
    from elastic_cli.redaction import register_secret

    if _quiet_ref(value) is None and not (value or "").strip().startswith("$("):
        register_secret(value)


def resolve(ref: SecretRef, base_dir: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The secret a reference points at (registered for redaction); SecretUnavailable otherwise."""
    from elastic_cli.redaction import register_secret

    if ref.kind == "env":
        secret = _from_env(ref, environ)
    elif ref.kind == "file":
        secret = _from_file(ref, base_dir)
    else:
        secret = keychain_get(ref.target, ref)
    register_secret(secret)
    return secret


def _fail(ref: SecretRef, why: str, fix: str) -> SecretUnavailable:
    return SecretUnavailable(f"the api_key {ref.text} cannot be read: {why}", fix)


def _from_env(ref: SecretRef, environ: Mapping[str, str]) -> str:
    value = environ.get(ref.target)
    if value is None:
        raise _fail(ref, f"the environment variable {ref.target} is not set",
                    f"export {ref.target} with the API key, or change the profile's api_key")
    if not value.strip():
        raise _fail(ref, f"the environment variable {ref.target} is empty",
                    f"set {ref.target} to the API key, or change the profile's api_key")
    return value.strip()


def file_path(ref: SecretRef, base_dir: Path) -> Path:
    """`~` expanded; a relative path is relative to base_dir (the config file's directory)."""
    path = Path(os.path.expanduser(ref.target))
    return path if path.is_absolute() else base_dir / path


def _from_file(ref: SecretRef, base_dir: Path) -> str:
    path = file_path(ref, base_dir)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise _fail(ref, f"{path} does not exist",
                    f"write the API key alone into {path} (chmod 600), or fix the reference") from None
    except OSError as exc:
        raise _fail(ref, f"cannot read {path}: {exc.strerror or 'error'}",
                    "fix the file's permissions or the reference") from None
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read, a directory cannot hold a key
        raise _fail(ref, f"{path} is not a regular file", "point the reference at a file holding the API key")
    mode = info.st_mode & 0o777
    if sys.platform != "win32" and mode & 0o077:
        # as ssh treats a private key: a secret others may read is refused, not used
        raise _fail(ref, f"{path} is open to other users (mode {mode:04o})", f"run chmod 600 {path}")
    if info.st_size > MAX_FILE_BYTES:
        raise _fail(ref, f"{path} is larger than {MAX_FILE_BYTES} bytes, too large for an API key",
                    "keep only the API key in that file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _fail(ref, f"cannot read {path}: {exc.strerror or 'error'}",
                    "fix the file's permissions (chmod 600, owned by you) or the reference") from None
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _fail(ref, f"{path} is not UTF-8 text", "keep only the API key in that file") from None
    if len(data) > MAX_FILE_BYTES:
        raise _fail(ref, f"{path} is larger than {MAX_FILE_BYTES} bytes, too large for an API key",
                    "keep only the API key in that file")
    if not text:
        raise _fail(ref, f"{path} is empty", f"write the API key into {path}")
    if "\n" in text or "\r" in text:
        raise _fail(ref, f"{path} holds more than one line", "keep only the API key in that file, on one line")
    return text


def write_file(path: Path, secret: str) -> None:
    """Replace a referenced file's content atomically, mode 0600 (keys rotate), as the config file is."""
    from elastic_cli.config.atomic import atomic_write

    atomic_write(path, secret + "\n")


def kept_in(resolved: Any) -> str | None:
    """Where the api_key lives, in words; None when there is none."""
    if resolved.api_key_ref is not None:
        return str(resolved.api_key_ref.where)
    source = resolved.sources.get("api_key", "default")
    if resolved.api_key is None or source == "default":
        return None
    if source == "flag":
        return "the --api-key flag"
    if source.startswith("env"):
        return "the environment variable " + source.split(" ", 1)[1]
    return f"the config file {resolved.path} (plain text)"


# ---------------------------------------------------------------- the keychain


def _keyring(ref: SecretRef | None, doing: str) -> Any:
    try:
        import keyring
    except ImportError:
        raise _keychain_error(ref, doing, "the keyring library is not installed", INSTALL_HINT) from None
    return keyring


def _keychain_error(ref: SecretRef | None, doing: str, why: str, fix: str) -> SecretUnavailable:
    if ref is not None:
        return _fail(ref, why, fix)
    return SecretUnavailable(f"cannot {doing} the keychain: {why}", fix)


NO_BACKEND_FIX = ("run a Secret Service (gnome-keyring, KeePassXC) in your session, or set PYTHON_KEYRING_BACKEND; "
                  "without one, keep the key in the file (--no-keychain) or use $(env:VAR) / $(file:PATH)")


def _translate(exc: Exception, ref: SecretRef | None, doing: str) -> SecretUnavailable:
    """A keyring failure in one line; its own text is not shown (it may quote the backend at length)."""
    import keyring.errors

    if isinstance(exc, keyring.errors.NoKeyringError):
        return _keychain_error(ref, doing, "no keychain backend is available", NO_BACKEND_FIX)
    if isinstance(exc, keyring.errors.KeyringLocked):
        return _keychain_error(ref, doing, "the keychain is locked", "unlock it (log in to the desktop session), "
                               "then run the command again")
    return _keychain_error(ref, doing, f"the keychain failed ({type(exc).__name__})",
                           "check that the keychain service runs and is unlocked; --debug shows the traceback")


def keychain_get(name: str, ref: SecretRef | None = None) -> str:
    ref = ref or SecretRef("keychain", name, keychain_ref(name))
    keyring = _keyring(ref, "read")
    try:
        secret = keyring.get_password(SERVICE, name)
    except Exception as exc:  # noqa: BLE001 — every backend failure becomes one line
        raise _translate(exc, ref, "read") from exc
    if secret is None:
        raise _fail(ref, f"the keychain has no entry '{name}' (service {SERVICE})",
                    "store it: `orx-elastic configure --keychain` asks for the key "
                    f"(or `keyring set {SERVICE} {name}`)")
    if not secret.strip():
        raise _fail(ref, f"the keychain entry '{name}' is empty", "store the key again: `orx-elastic configure --keychain`")
    return secret.strip()


def keychain_peek(name: str, doing: str = "read") -> str | None:
    """The entry's secret, None when there is none (what is put back when a later step fails);
    `doing` is what the error says the tool was about to do."""
    keyring = _keyring(None, doing)
    try:
        secret: str | None = keyring.get_password(SERVICE, name)
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, None, doing) from exc
    return secret


def keychain_set(name: str, secret: str) -> None:
    from elastic_cli.redaction import register_secret

    register_secret(secret)
    keyring = _keyring(None, "write to")
    try:
        keyring.set_password(SERVICE, name, secret)
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, None, "write to") from exc


def keychain_delete(name: str) -> bool:
    """Remove an entry; False when there was none."""
    keyring = _keyring(None, "delete from")
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        return False
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, None, "delete from") from exc
    return True


def keychain_problem() -> str | None:
    """Why the keychain cannot be used here, None when it can (for secret_store: auto)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return "the keyring library is not installed"
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001
        return f"the keychain failed ({type(exc).__name__})"
    if isinstance(backend, fail.Keyring):
        return "no keychain backend is available"
    return None


# ---------------------------------------------------------------- where a new key goes


def choose(flag: bool | None, setting: str, setting_given: bool, current: str | None,
           warn: Any = lambda message: None) -> str:
    """'keychain' or 'file' for a new api_key: --keychain/--no-keychain, then the secret_store
    setting, then where the profile keeps its key now (a key in the keychain stays there)."""
    if flag is not None:
        return "keychain" if flag else "file"
    if setting_given:
        if setting != "auto":
            return setting
        problem = keychain_problem()
        if problem is None:
            return "keychain"
        warn(f"secret_store is auto and {problem}: the api_key goes into the config file")
        return "file"
    ref = _quiet_ref(current)
    return "keychain" if ref is not None and ref.kind == "keychain" else "file"


def _quiet_ref(value: str | None) -> SecretRef | None:
    try:
        return parse_ref(value)
    except ValueError:
        return None


def place(profile: str, secret: str, store: str, current: str | None) -> tuple[str, Callable[[], None]]:
    """Keep a new secret where `store` says; returns what the config file's api_key gets, and how to
    undo it when the file then cannot be written. In the keychain it replaces the entry the profile
    refers to now, else the tool's own entry."""
    if store != "keychain":
        return secret, lambda: None
    ref = _quiet_ref(current)
    name = ref.target if ref is not None and ref.kind == "keychain" else own_entry(profile)
    before = keychain_peek(name, "write to")
    keychain_set(name, secret)

    def undo() -> None:
        if before is None:
            keychain_delete(name)
        else:
            keychain_set(name, before)

    return keychain_ref(name), undo


def stale_entry(profile: str, old: str | None, new: str | None) -> str | None:
    """The tool's own keychain entry that `old` referred to and `new` no longer does: to delete once the
    file is written (an entry the user named is theirs, and stays)."""
    ref = _quiet_ref(old)
    if ref is None or ref.kind != "keychain" or ref.target != own_entry(profile):
        return None
    new_ref = _quiet_ref(new)
    if new_ref is not None and new_ref.kind == "keychain" and new_ref.target == ref.target:
        return None
    return ref.target

"""The admin user of the node's file realm, hashed with the standard library only.

Elasticsearch's file realm reads the hash format from its prefix (``Hasher.resolveFromHash``),
whatever ``xpack.security.authc.password_hashing.algorithm`` says. ``{PBKDF2}`` is
PBKDF2-HMAC-SHA512 with a 256-bit key: ``{PBKDF2}<iterations>$<base64 salt>$<base64 hash>``,
which ``hashlib.pbkdf2_hmac`` computes; so the sandbox needs no ``bcrypt`` package.
Checked on real nodes (8.19.21 and 9.5.4) by tests/integration/test_harness.py.
"""

from __future__ import annotations

import base64
import hashlib
import os

PBKDF2_ITERATIONS = 10_000  # Elasticsearch's own default cost for {PBKDF2}
PBKDF2_KEY_BYTES = 32  # 256 bits, as Elasticsearch derives it
SALT_BYTES = 32


def file_realm_hash(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A ``config/users`` password hash in Elasticsearch's ``{PBKDF2}`` format."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    derived = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, PBKDF2_KEY_BYTES)
    b64 = base64.b64encode
    return f"{{PBKDF2}}{iterations}${b64(salt).decode()}${b64(derived).decode()}"


def users_file(user: str, password: str) -> str:
    """The ``config/users`` line for one user."""
    return f"{user}:{file_realm_hash(password)}\n"


def users_roles_file(user: str, role: str = "superuser") -> str:
    """The ``config/users_roles`` line giving ``user`` one role."""
    return f"{role}:{user}\n"

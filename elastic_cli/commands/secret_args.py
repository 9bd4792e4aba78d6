"""Secrets typed on the command line or set in the environment, known before anything is parsed."""

from __future__ import annotations

import os

SECRET_FLAGS = ("--api-key", "--password", "--admin-api-key")
SECRET_ENV = ("ORX_ELASTIC_API_KEY", "ORX_ELASTIC_PASSWORD", "ORX_ELASTIC_ADMIN_API_KEY")


def register_secrets(args: list[str]) -> None:
    """Secrets typed on the command line or set in the environment are known before
    parsing, so even a usage error that echoes the arguments cannot show them."""
    from elastic_cli.config.secret_store import register_key
    from elastic_cli.redaction import register_secret

    def register(flag_or_env: str, value: str | None) -> None:
        # an api_key may be a reference ($(env:X)), which is no secret and is named in messages
        (register_key if flag_or_env in ("--api-key", "ORX_ELASTIC_API_KEY") else register_secret)(value)

    for index, arg in enumerate(args):
        for flag in SECRET_FLAGS:
            if arg == flag and index + 1 < len(args):
                register(flag, args[index + 1])
            elif arg.startswith(flag + "="):
                register(flag, arg[len(flag) + 1:])
    for name in SECRET_ENV:
        register(name, os.environ.get(name))

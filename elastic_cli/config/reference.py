"""README's reference tables, rendered from the code that defines them (settings.KEYS, errors.EXIT_CODES).

`scripts/gen-docs` writes them between README's `<!-- generated: NAME -->` markers, and a test
fails when README differs from what the code says (as sqlite-utils checks its docs with cog).
"""

from __future__ import annotations

import re
from typing import Any, Callable

# How a setting is given on the command line when it is not simply --<name>
_FLAGS = {
    "host": "`--host` (a URL sets the port too: 9200 when it names none, never a port saved for another host; "
            "a path prefix such as `/es` is kept; `user:pass@` is refused), `--cloud-id`",
    "api_key": "`--api-key` (raw or encoded, or a reference: `$(keychain:NAME)`, `$(env:VAR)`, `$(file:PATH)`; "
               "`configure --api-key -` reads it from stdin)",
    "verify_certs": "`--insecure` (`--no-insecure` verifies again)",
    "session_margin": "`logs --session-margin`, `configure --session-margin`",
    "secret_store": "`configure --keychain`/`--no-keychain`, `create-key --save --keychain`",
}


def _default(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return f"`{value}`"


def settings_table() -> str:
    from elastic_cli.config.settings import KEYS

    rows = ["| key | flag | environment variable | default | meaning |", "|---|---|---|---|---|"]
    for key in KEYS:
        flag = _FLAGS.get(key.name, f"`--{key.name.replace('_', '-')}`")
        rows.append(f"| {key.name} | {flag} | `{key.env}` | {_default(key.default)} | {key.help} |")
    return "\n".join(rows)


def exit_codes_table() -> str:
    from elastic_cli.errors import EXIT_CODES

    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning.replace('--debug', '`--debug`')} |" for code, (_, meaning) in EXIT_CODES.items()]
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {"settings": settings_table, "exit-codes": exit_codes_table}
_BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def render(readme: str) -> str:
    """README with every generated block rewritten from the code."""
    return _BLOCK.sub(lambda m: m.group(1) + TABLES[m.group("name")]() + "\n" + m.group(4), readme)

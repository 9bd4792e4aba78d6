"""The propagation kit: the code that carries the session from the browser to each backend log line,
for one stack, rendered from the files of `kit/` (package data; pure: no I/O beyond reading them).

Each stack's file is one language's core (headers accepted, token -> id, the markers, per-request
context) plus its framework's wiring and logger integration. `orx-elastic instrument` prints it;
the integration tests run exactly this output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from elastic_cli.errors import UsageError
from elastic_cli.openreplay.session_token import SESSION_ID_MARKER_PREFIX, TOKEN_MARKER_PREFIX

# verdict codes (openreplay.verdicts) that the kit's code avoids: `check` and `shows` point to it for them
KIT_CODES = frozenset({"no-token", "token-cut", "other-token-first", "no-id-marker", "no-level", "level-not-text",
                       "panel-broken", "level-case", "no-timestamp", "no-utc-time", "utc-time-not-date"})
KIT_HINT = ("`orx-elastic instrument STACK` prints logging code that writes both markers, `level` and `@timestamp`; "
            "`orx-elastic canary URL` proves it end to end")

# sent by `orx-elastic canary`; the printed middleware logs one line when it is present
CANARY_HEADER = "X-Orx-Canary"
GENERATIONS = {"v1.20": (True, False), "v1.21": (False, True), "both": (True, True)}
DEFAULT_GENERATION = "both"


@dataclass(frozen=True)
class Stack:
    name: str
    title: str
    language: str  # python, node, browser
    parts: tuple[str, ...]  # kit files, in order
    filename: str  # where the output goes


STACKS = {s.name: s for s in (
    Stack("python-flask", "Flask, stdlib logging", "python", ("python_core.py.tmpl", "python_wsgi.py.tmpl"), "openreplay_logging.py"),
    Stack("python-django", "Django, stdlib logging", "python", ("python_core.py.tmpl", "python_django.py.tmpl"),
          "openreplay_logging.py"),
    Stack("python-fastapi", "FastAPI / Starlette / ASGI, stdlib logging", "python",
          ("python_core.py.tmpl", "python_asgi.py.tmpl"), "openreplay_logging.py"),
    Stack("python-wsgi", "any WSGI application, stdlib logging", "python", ("python_core.py.tmpl", "python_wsgi.py.tmpl"),
          "openreplay_logging.py"),
    Stack("node-express-pino", "Express with pino", "node", ("node_core.js.tmpl", "node_pino.js.tmpl"), "openreplay-logging.js"),
    Stack("node-express-winston", "Express with winston", "node", ("node_core.js.tmpl", "node_winston.js.tmpl"),
          "openreplay-logging.js"),
    Stack("browser", "the OpenReplay tracker, fetch, axios, CORS", "browser", ("browser.js.tmpl",), "openreplay-browser.js"),
)}


def _kit(name: str) -> str:
    return resources.files("elastic_cli.openreplay").joinpath("kit").joinpath(name).read_text(encoding="utf-8")


def marker_text(generation: str) -> str:
    v120, v121 = GENERATIONS[generation]
    return " ".join(([f"{TOKEN_MARKER_PREFIX}<token>"] if v120 else []) + ([f"{SESSION_ID_MARKER_PREFIX}<id>"]
                                                                          if v121 else []))


def render(stack_name: str, generation: str = DEFAULT_GENERATION, version: str = "") -> str:
    """The file for one stack, writing the markers of `generation` (v1.20, v1.21 or both)."""
    stack = STACKS.get(stack_name)
    if stack is None:
        raise UsageError(f"no stack {stack_name!r}", f"one of: {', '.join(STACKS)}")
    if generation not in GENERATIONS:
        raise UsageError(f"no generation {generation!r}", f"one of: {', '.join(GENERATIONS)}")
    v120, v121 = GENERATIONS[generation]
    body = "".join(_kit(part) for part in stack.parts)
    head = ""
    if stack.language in ("python", "node"):
        head = _kit(f"{stack.language}_head.txt").replace("@@WIRING@@", _kit(f"{stack.name.replace('-', '_')}.wiring")
                                                          .rstrip("\n"))
        if stack.language == "python":
            body = "\n" + body
    text = head + body
    truth = ("True", "False") if stack.language == "python" else ("true", "false")
    for key, value in {
        "@@WRITE_V120@@": truth[0] if v120 else truth[1],
        "@@WRITE_V121@@": truth[0] if v121 else truth[1],
        "@@CANARY_HEADER@@": CANARY_HEADER,
        "@@STACK_TITLE@@": stack.title,
        "@@STACK@@": stack.name,
        "@@GENERATION@@": generation,
        "@@MARKERS@@": marker_text(generation),
        "@@VERSION@@": version,
    }.items():
        text = text.replace(key, value)
    return text


_PRINTED = re.compile(r"(<!-- printed: instrument (?P<stack>[a-z-]+) -->\n```(?P<lang>\w*)\n)(?P<body>.*?)"
                      r"(```\n<!-- end printed -->)", re.S)


def render_readme(readme: str, version: str) -> str:
    """README with each `<!-- printed: instrument STACK -->` block rewritten as the command prints it
    (scripts/gen-docs), so README shows the real output."""
    return _PRINTED.sub(lambda m: m.group(1) + render(m.group("stack"), DEFAULT_GENERATION, version) + m.group(5),
                        readme)


# ---------------------------------------------------------------- the canary's synthetic session

@dataclass(frozen=True)
class CanarySession:
    session_id: str
    token: str
    nonce: str  # the canary header's value: the printed middleware logs it, so its line is found

    def header_value(self, header: str) -> str:
        return self.session_id if carries_id(header) else self.token


def carries_id(header: str) -> bool:
    """An id header (X-OpenReplay-Session-Id, openReplaySession.id) carries the id; any other (the
    tracker's token headers) the token."""
    return header.lower().replace(".", "-").endswith("-id")


TOKEN_LIFETIME_MS = 2 * 3600 * 1000  # as OpenReplay's own tokens


def fresh_session(now_ms: int, random_bits: int, signature: bytes, nonce: str) -> CanarySession:
    """A session id laid out as OpenReplay's flake ids (start time above 24 bits), and a token of the
    tracker's shape for it (its signature random: no backend can check it without the secret)."""
    from elastic_cli.openreplay.session_token import FLAKE_EPOCH_MS, to_base36, to_base58

    session_id = ((now_ms - FLAKE_EPOCH_MS) << 24) | (random_bits & 0xFFFFFF)
    token = ".".join((to_base36(session_id), "0", to_base36(now_ms + TOKEN_LIFETIME_MS), to_base58(signature)))
    return CanarySession(str(session_id), token, nonce)

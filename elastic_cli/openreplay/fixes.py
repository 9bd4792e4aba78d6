"""The fixes an admin can apply so that OpenReplay shows the lines (pure: requests and advice).

* v1.21+ searches index `logs` only: an alias `logs` over the user's log indices or data streams
  lets it find their lines without moving any. The alias carries a named `match_all` filter, so
  the alias this tool made is told apart from one someone else made (`--remove` takes off only
  its own); a `match_all` filter changes no answer.
* What cannot be fixed from here (documents without `level` or `@timestamp`, a level in upper
  case) is a change in the shipper: printed as advice, never applied.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from elastic_cli.openreplay.verdicts import LOGS_INDEX

ALIAS_MARK = "orx-elastic"  # the named query in the filter of the alias this tool makes
ALIAS_FILTER = {"bool": {"filter": [{"match_all": {"_name": ALIAS_MARK}}]}}
ENDPOINT = "/_aliases"


def add_alias_body(targets: Sequence[str]) -> dict[str, Any]:
    """`POST /_aliases`: alias `logs` over the targets (indices or data streams, not both: Elasticsearch
    refuses an alias over both)."""
    return {"actions": [{"add": {"index": target, "alias": LOGS_INDEX, "filter": ALIAS_FILTER}}
                        for target in targets]}


def remove_alias_body(targets: Sequence[str]) -> dict[str, Any]:
    return {"actions": [{"remove": {"index": target, "alias": LOGS_INDEX}} for target in targets]}


def is_our_alias(alias: Mapping[str, Any]) -> bool:
    """Whether an alias definition (GET /_alias/logs, per index) is the one this tool made."""
    return ALIAS_MARK in json.dumps(alias.get("filter") or {})


# ---------------------------------------------------------------- advice for the shipper

ADVICE_TITLE = "advice (a change in your shipper: orx-elastic cannot make it for you)"

LEVEL_ADVICE = {
    "Filebeat (filebeat.yml)": """processors:
  - copy_fields:            # OpenReplay v1.21+ reads `level`; ECS keeps it in `log.level`
      fields:
        - from: log.level
          to: level
      fail_on_error: false
      ignore_missing: true
  - script:                 # and matches it in lower case (error, warning, info, debug)
      lang: javascript
      source: >
        function process(event) { var l = event.Get("level"); if (l) { event.Put("level", String(l).toLowerCase()); } }""",
    "Logstash (pipeline .conf)": """filter {
  if [log][level] and ![level] { mutate { copy => { "[log][level]" => "level" } } }
  mutate { lowercase => ["level"] }
}""",
    "ECS logger (Python ecs-logging)": """import logging, ecs_logging

class OpenReplayLevel(logging.Filter):
    def filter(self, record):
        record.level = record.levelname.lower()   # a top-level `level`, beside ECS's log.level
        return True

handler = logging.StreamHandler()
handler.setFormatter(ecs_logging.StdlibFormatter())
handler.addFilter(OpenReplayLevel())""",
}

TIMESTAMP_ADVICE = {
    "Filebeat": "Filebeat sets @timestamp itself; with a decode_json_fields of your own lines, keep its target so "
                "@timestamp is not overwritten",
    "Logstash (pipeline .conf)": """filter {
  date { match => ["utc_time", "ISO8601"] target => "@timestamp" }
}""",
    "ECS logger": "ecs-logging writes @timestamp on every line: use its formatter (StdlibFormatter) for the handler "
                  "that ships to Elasticsearch",
}


def advice_for(codes: set[str]) -> list[tuple[str, str]]:
    """(title, snippet) for the problems found (verdict codes) that only the shipper can fix."""
    out: list[tuple[str, str]] = []
    if codes & _LEVEL_CODES:
        out += [(f"`level` for OpenReplay v1.21+: {name}", text) for name, text in LEVEL_ADVICE.items()]
    if "no-timestamp" in codes:
        out += [(f"`@timestamp` for OpenReplay v1.21+: {name}", text) for name, text in TIMESTAMP_ADVICE.items()]
    return out


# one line per cause (the table's short form; `-v` prints the snippets of advice_for)
ADVICE_BRIEF = {
    "level": "`level` for OpenReplay v1.21+: copy `log.level` to a top-level `level` in lower case (error, warning, "
             "info, debug) in your shipper",
    "timestamp": "`@timestamp` for OpenReplay v1.21+: give each line an `@timestamp` (ISO 8601) in your shipper",
}
_LEVEL_CODES = {"no-level", "level-not-text", "level-case", "panel-broken"}


def advice_causes(codes: set[str]) -> list[tuple[str, str]]:
    """(cause, one line) for each cause found that only the shipper can fix, once per cause."""
    out = []
    if codes & _LEVEL_CODES:
        out.append(("level", ADVICE_BRIEF["level"]))
    if "no-timestamp" in codes:
        out.append(("timestamp", ADVICE_BRIEF["timestamp"]))
    return out

"""README's pictures (es_sandbox/pictures.py): what the comparison ignores and what it does not, and that
README and the SVGs are rendered from the committed transcripts (scripts/gen-docs --check says the same)."""

from __future__ import annotations

from pathlib import Path

from es_sandbox import pictures

ROOT = Path(__file__).resolve().parents[2]


def test_readme_and_svgs_are_rendered_from_the_committed_transcripts():
    transcripts = pictures.committed()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert pictures.render_readme(readme, transcripts) == readme
    assert pictures.stale_svgs(transcripts) == []
    for name, ansi in transcripts.items():
        assert ansi.startswith(f"$ orx-elastic {name} "), ansi[:80]
        assert f"](docs/pictures/{name}.svg)" in readme
        assert pictures.plain(ansi).splitlines()[1].rstrip() in readme  # its text beside the picture


def test_an_edited_transcript_makes_its_svg_and_readme_stale():
    transcripts = dict(pictures.committed())
    transcripts["logs"] += "one more line\n"
    assert pictures.stale_svgs(transcripts) == ["docs/pictures/logs.svg"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert pictures.render_readme(readme, transcripts) != readme


def test_what_varies_between_runs_is_ignored_and_nothing_else():
    one = ("\x1b[1mtime\x1b[0m  session 4138738541371994343 started 2026-12-08T00:00:40.576Z at 127.0.0.1:41601\n"
           "  token vfzoda0memmb.3az.mxe1yg74.ovJ2jwk7BEAZr3hB1GgCdXkXTF3W4c4sndRrpZevt3q (id PJQCU6IBbsz1q3ebQy-E)\n"
           "  in /tmp/tmpamp_2cpq/config.yaml, 42.3 ms, 00:03:53.026 on 2026-12-08\n")
    two = ("time session 4138999999999990019 started 2027-01-02T10:11:12.000Z at 127.0.0.1:9200 token "
           "abc.-1k.mxe42xn9.5Hq1W9dVgXk3Zr8ZtB8YbD4pE7sLmN2aQw6cJfRuT3x (id OpT7UqIBbsz1q3ebzC_1) in "
           "/home/u/.config/orx-elastic/config.yaml, 7 ms, 10:11:12.000 on 2027-01-02")
    assert pictures.normalized(one) == pictures.normalized(two)
    assert pictures.normalized(one) != pictures.normalized(one.replace("started", "begun"))
    assert pictures.normalized(one) != pictures.normalized(one.replace("session 4", "sessions 4"))
    assert pictures.normalized("in /tmp/x/pictures.yaml (plain") == pictures.normalized("in /a/config.yaml (plain")
    assert "+begun" in pictures.difference(one, one.replace("started", "begun"))

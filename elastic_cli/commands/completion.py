"""`orx-elastic completion bash|zsh|fish`: print a shell completion script.

The scripts are static (every subcommand and option is in the script); the only
thing they ask the tool for is profile names, with the hidden
`orx-elastic completion --profiles`, which reads the config file and nothing else:
no Elasticsearch client, no rich, no network.

Why not click's own `shell_complete=`: measured side by side (bench/completion.py, bench/RESULTS.md),
it runs Python on every TAB (20 times the static scripts' cost for subcommands and options), reading
profiles with yaml exceeds the 1.3x start-up target, and its bash and fish scripts cannot complete
`--output=<TAB>`.
"""

from __future__ import annotations

import re

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS), required=False)
@click.option("--profiles", "list_profiles", is_flag=True, hidden=True,
              help="Print the profile names of the config file, one a line (used by the scripts).")
@click.pass_context
def completion(ctx: click.Context, shell: str | None, list_profiles: bool) -> None:
    """Print the completion script for bash, zsh or fish.

    \b
    Install:
      bash  orx-elastic completion bash > ~/.local/share/bash-completion/completions/orx-elastic
      zsh   orx-elastic completion zsh > ~/.zfunc/_orx-elastic   (fpath+=(~/.zfunc) before compinit)
      fish  orx-elastic completion fish > ~/.config/fish/completions/orx-elastic.fish
    or for this shell only:  source <(orx-elastic completion bash)
    """
    if list_profiles:
        for name in _profile_names(ctx):
            click.echo(name)
        return
    if shell is None:
        raise click.UsageError("name a shell: bash, zsh or fish", ctx=ctx)
    from elastic_cli.commands.completion_scripts import generate

    click.echo(generate(shell), nl=False)


def _profile_names(ctx: click.Context) -> list[str]:
    """The profiles of the file named by --config / ORX_ELASTIC_CONFIG / the default place; [] on any error."""
    from elastic_cli.config import file as config_file

    try:
        path = ctx.find_root().params.get("config_path") or config_file.default_config_path()
        if not path.is_file():
            return []
        names = simple_profile_names(path.read_text(encoding="utf-8"))
        if names is None:  # not the plain layout save_profile writes: let the real loader read it
            names = list(config_file.load_config_file(path).profiles)
        return names
    except Exception:  # noqa: BLE001 — completion must never fail loudly
        return []


_PLAIN_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.@-]*):(?:\s+#.*)?\s*$")


def simple_profile_names(text: str) -> list[str] | None:
    """Profile names of a file in the plain block layout save_profile writes, without importing yaml.

    Importing yaml is most of the cost of a completion request, so the common file is read
    line by line. Anything else (flow style, quoted or unusual keys, tabs, anchors, several
    documents...) returns None, and the caller uses the YAML loader.
    """
    names: list[str] = []
    in_profiles = seen_profiles = False
    indent = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            return None
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            match = _PLAIN_KEY.match(line)
            if match is None:
                if re.match(r"default_profile: *[A-Za-z0-9_.@-]+ *$", line):
                    in_profiles = False
                    continue
                return None
            if match.group(1) == "profiles":
                if seen_profiles:
                    return None
                in_profiles = seen_profiles = True
            else:
                in_profiles = False
            continue
        if not in_profiles:
            continue
        if indent is None:
            indent = depth
        if depth < indent:
            return None
        if depth == indent:
            match = _PLAIN_KEY.match(line[depth:])
            if match is None:
                return None
            names.append(match.group(1))
    if len(set(names)) != len(names):
        return None
    return names

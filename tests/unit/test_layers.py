"""The folders of elastic_cli/ are layers: each uses only those below it (and the base modules).

Data flows one way: commands parse flags and call the core (search, keys, checks), which uses
the cluster and the settings; the output layer draws what the core returns. A new import that
runs upwards (the cluster reading search code, settings calling the client) fails here, with
the line to move.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "elastic_cli"
BASE = {"errors", "redaction", "__init__"}  # what every layer may use: error types, secret masking
# layer -> the layers it may import (besides itself and BASE)
ALLOWED = {
    "config": set(),
    "cluster": {"config"},
    "openreplay": {"config"},
    "search": {"openreplay", "cluster", "config"},
    "keys": {"cluster", "config"},
    "checks": {"search", "keys", "openreplay", "cluster", "config"},
    "output": {"search", "openreplay", "config"},
    # the MCP server: a front end like commands, without click; its tools call the core
    "mcp_server": {"checks", "search", "keys", "openreplay", "cluster", "config", "output"},
    "commands": {"*"},
    "cli": {"*"},
}


def layer_of(module: str) -> str:
    """`elastic_cli.search.pager` -> search; `elastic_cli.errors` -> errors."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and not parts[1].startswith("__") else "__init__"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every elastic_cli import, lazy ones too; type-only imports are not uses."""
    tree = ast.parse(path.read_text())
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for child in node.body for n in ast.walk(child))
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("elastic_cli"):
            folder = PACKAGE.parent.joinpath(*node.module.split("."))
            for alias in node.names:
                # `from elastic_cli.output import formats` imports the module formats, not the package
                is_module = (folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir()
                found.append((node.lineno, f"{node.module}.{alias.name}" if is_module else node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("elastic_cli")]
    return found


def test_every_folder_uses_only_the_layers_below_it():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        layer = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        if layer in BASE or layer == "__main__":
            if layer in BASE:
                # the base uses nothing of the tool but other base modules
                wrong += [f"{relative}:{line} imports {module}" for line, module in imports(path)
                          if layer_of(module) not in BASE]
            continue
        allowed = ALLOWED[layer]
        for line, module in imports(path):
            target = layer_of(module)
            if target == layer or target in BASE or "*" in allowed or target in allowed:
                continue
            wrong.append(f"{relative}:{line} ({layer}) imports {module} ({target})")
    assert not wrong, "imports that run upwards:\n" + "\n".join(wrong)


def test_the_layers_table_names_every_folder():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert folders | modules - BASE - {"__main__"} <= set(ALLOWED)


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan): every import cycle, of any
    length, once."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycles_finds_a_cycle_of_three_and_nothing_in_a_chain():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_core_modules_import_each_other_in_a_cycle():
    """A cycle of any length (as admin and api_keys had; as config's file, settings and
    secret_store had, three long) means modules hold one job between them."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        if name.startswith(("elastic_cli.commands", "elastic_cli.cli")):
            continue  # the command layer and its root group know each other by design (ctx.obj)
        graph[name] = {module for _, module in imports(path)} - {name}
    cycles = _cycles(graph)
    assert not cycles, f"modules that import each other in a cycle: {cycles}"

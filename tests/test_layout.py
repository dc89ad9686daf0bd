"""The package's architecture: no import cycle, and a top level that holds only the main rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import lowrank_rnn

PACKAGE = Path(lowrank_rnn.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports (at any depth of the file: function-level imports
    count too, since they run whenever the function does)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            for t in targets:
                if t in modules and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _parent_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # importing a.b.c runs a/__init__ and a/b/__init__: an edge to each parent package, except a
    # module's own ancestors (their __init__ is already running when it is imported)
    out: dict[str, set[str]] = {}
    for name, deps in graph.items():
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        full = set(deps)
        for d in deps:
            parts = d.split(".")
            full |= {".".join(parts[:i]) for i in range(2, len(parts))}
        out[name] = {d for d in full if d in graph and d not in own and d != name}
    return out


def test_detector_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    graph = _parent_packages(_import_graph())
    assert len(graph) > 40  # the walk saw the package
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_top_level_holds_only_the_main_rooms():
    rooms = [p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))]
    public = sorted(r for r in rooms if not r.startswith("_") and r != "cli")
    assert len(public) <= 16, public

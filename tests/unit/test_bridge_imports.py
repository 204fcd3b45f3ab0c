"""The bridge's modules import each other without a cycle (issue 8), counting imports behind
TYPE_CHECKING too; none imports the worker's package; the room and meeting orchestration
stays importable without PJSIP, Redis or the node."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "bridge"
ORCHESTRATION = ("bridge.edge", "bridge.rooms", "bridge.meetings", "bridge.templates")

Graph = dict[str, set[str]]


def imported(tree: ast.AST, module: str) -> set[str]:
    """Every module `module`'s source names in an import, anywhere in it (a module for
    `from package import name`, whether name is a module or not)."""
    package = module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .x import y
                base = ".".join([package, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def bridge_modules() -> dict[str, set[str]]:
    """Each bridge module and everything it imports."""
    return {f"bridge.{path.stem}": imported(ast.parse(path.read_text(), filename=str(path)), f"bridge.{path.stem}")
            for path in sorted(BRIDGE.glob("*.py")) if path.stem != "__init__"}


def graph(modules: dict[str, set[str]]) -> Graph:
    return {module: {name for name in names if name in modules and name != module}
            for module, names in modules.items()}


def cycle(edges: Graph) -> list[str]:
    """One import cycle, as a path that ends where it starts; [] if there is none."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return [*path[path.index(module):], module]
        if module in done:
            return []
        for target in sorted(edges.get(module, ())):
            if found := visit(target, [*path, module]):
                return found
        done.add(module)
        return []

    return next((found for module in sorted(edges) if (found := visit(module, []))), [])


def reached(edges: Graph, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_bridge_modules_import_each_other_without_a_cycle() -> None:
    edges = graph(bridge_modules())
    assert {"bridge.node", "bridge.rooms", "bridge.meetings"} <= set(edges)
    assert cycle(edges) == [], " -> ".join(cycle(edges))


def test_a_cycle_behind_type_checking_or_from_bridge_import_counts() -> None:
    rooms = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bridge.node import Node\n")
    node = ast.parse("from bridge import rooms\n")
    edges = graph({"bridge.rooms": imported(rooms, "bridge.rooms"), "bridge.node": imported(node, "bridge.node")})
    assert cycle(edges) == ["bridge.node", "bridge.rooms", "bridge.node"]


def test_no_bridge_module_imports_the_workers_package() -> None:
    offenders = {module: sorted(name for name in names if name == "workers" or name.startswith("workers."))
                 for module, names in bridge_modules().items()}
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_orchestration_needs_neither_pjsip_nor_redis_nor_the_node() -> None:
    modules = bridge_modules()
    edges = graph(modules)
    for module in ORCHESTRATION:
        closure = reached(edges, module)
        assert "bridge.node" not in closure, module
        outside = {name.split(".")[0] for inside in closure for name in modules[inside]}
        assert not outside & {"pjsua2", "redis", "store", "workers"}, (module, sorted(closure))


def test_the_bridge_process_loads_no_sql_and_no_worker() -> None:
    # What `python -m bridge.main` imports, in a fresh interpreter: SQLAlchemy, Alembic and the
    # workers' jobs belong to other processes.
    probe = "import sys, bridge.main; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=ROOT).stdout
    for package in ("sqlalchemy", "alembic", "workers", "flask"):
        assert f"'{package}'" not in loaded, package

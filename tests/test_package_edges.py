"""Package edges: no import circle in tracker/, detectors/ or benchmarks/, and what the core may import.

The import graph is read statically with :mod:`ast` from every import statement of every
module (module level, inside functions and under ``if TYPE_CHECKING:`` alike), so a circle
that only closes when some function runs is found too. Dynamic imports
(``importlib.import_module`` with a string) are not statements and are not seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("tracker", "detectors", "benchmarks")


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``) for every ``.py`` file under ``packages``."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _imported(name: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: dict) -> set[str]:
    """The scanned modules that one import statement of module ``name`` imports."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    found = set()
    for alias in node.names:
        if f"{source}.{alias.name}" in modules:
            found.add(f"{source}.{alias.name}")
        elif source in modules:
            found.add(source)
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Module -> {imported module: ``file:line`` of the first statement importing it}, within ``packages``."""
    modules = _modules(root, packages)
    graph: dict[str, dict[str, str]] = {}
    for name, (path, is_package) in modules.items():
        edges: dict[str, str] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in sorted(_imported(name, is_package, node, modules) - {name}):
                    edges.setdefault(target, f"{path.relative_to(root)}:{node.lineno}")
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """One circle ``[a, b, ..., a]`` per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle(graph, component) for component in components]


def _circle(graph: dict[str, dict[str, str]], component: list[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target == start:
                    return [*paths[node], start]
                if target in members and target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no circle through {start} in {component}")


def describe(graph: dict[str, dict[str, str]], circle: list[str]) -> str:
    """``a -> b (file:line) -> a (file:line)``: the circle with the statement of each step."""
    steps = [circle[0]] + [f"{b} ({graph[a][b]})" for a, b in zip(circle, circle[1:], strict=False)]
    return " -> ".join(steps)


def test_no_import_circle() -> None:
    graph = import_graph(REPO, PACKAGES)
    assert len(graph) > 50 and "tracker.ros2.bag" in graph and "benchmarks.runner" in graph
    circles = [describe(graph, circle) for circle in import_cycles(graph)]
    assert not circles, "import circle(s):\n" + "\n".join(circles)


def test_frame_sources_share_the_interface_module() -> None:
    graph = import_graph(REPO, PACKAGES)
    assert "tracker.frames" in graph["tracker.ros2.bag"] and "tracker.frames" in graph["tracker.app.sources"]
    assert "tracker.app.sources" not in graph["tracker.ros2.bag"]
    assert set(graph["tracker.frames"]) == set()


def test_the_format_readers_depend_on_nothing_of_the_app_or_the_benchmarks() -> None:
    graph = import_graph(REPO, PACKAGES)
    readers = [name for name in graph if name.startswith("tracker.formats")]
    assert len(readers) >= 4
    for name in readers:
        assert all(t == "tracker.boxes" or t.startswith("tracker.formats") for t in graph[name]), (name, graph[name])
    users = ("detectors.files", "benchmarks.datasets", "benchmarks.motion.train", "tracker.app.sources")
    assert all("tracker.formats" in graph[user] for user in users)


def test_the_scan_finds_a_circle_closed_inside_a_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def late():\n    from .. import c\n")
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text("from pkg import a\nfrom pkg.sub.b import late\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.d"] == {"pkg.a": "pkg/d.py:1", "pkg.sub.b": "pkg/d.py:2"}
    (circle,) = import_cycles(graph)
    assert circle == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert describe(graph, circle) == (
        "pkg.a -> pkg.sub.b (pkg/a.py:1) -> pkg.c (pkg/sub/b.py:2) -> pkg.a (pkg/c.py:1)"
    )
    (package / "c.py").write_text("import numpy\n")
    assert import_cycles(import_graph(tmp_path, ("pkg",))) == []


@pytest.mark.parametrize("path", sorted((REPO / "tracker" / "motion").glob("*.py")), ids=lambda path: path.name)
def test_the_motion_models_import_no_training_tooling(path: Path) -> None:
    nodes = list(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    names = {alias.name.split(".")[0] for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    names |= {(node.module or "").split(".")[0] for node in nodes if isinstance(node, ast.ImportFrom)}
    assert not names & {"torch", "argparse", "yaml", "benchmarks"}

"""The layers a newcomer sees in the folders hold in the code: no upward import, no circle.

Bottom to top: ``lianxin`` (protocol, keys, store, domain data, client); ``gateway``, ``desk``
and ``publisher`` (each imports only ``lianxin``); ``deskweb`` (the web desk, a shell over
``desk``); ``lianxin_cli`` (the command that wires them).
Every import counts, lazy ones inside functions and ``TYPE_CHECKING`` ones included.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

LAYER = {"lianxin": 0, "gateway": 1, "desk": 1, "publisher": 1, "deskweb": 2, "lianxin_cli": 3}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every module ``path`` (the module ``name``) imports, as absolute dotted names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for top in LAYER for p in (ROOT / top).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    return {
        name: {m for m in _imports(path, name) if m in modules} for name, path in modules.items()
    }


def _upward(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        top = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other != top and LAYER[other] >= LAYER[top]:
                wrong.append(f"{module} imports {target}")
    return sorted(wrong)


def test_no_part_imports_upward_or_sideways() -> None:
    wrong = _upward(_graph())
    assert not wrong, "\n".join(wrong)


def test_no_import_circle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append(" → ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from desk.cli import desk_group\n", encoding="utf-8")
    imported = _imports(probe, "lianxin.probe")
    assert "desk.cli" in imported
    assert _upward({"lianxin.probe": {"desk.cli"}}) == ["lianxin.probe imports desk.cli"]
    assert _upward({"desk.cli": {"gateway.app"}}) == ["desk.cli imports gateway.app"]
    assert _upward({"desk.cli": {"lianxin.keys"}}) == []

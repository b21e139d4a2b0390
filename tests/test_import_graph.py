"""core/ has no import cycles, counting imports inside functions; the engine's surface imports no TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

CORE = ROOT / "core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def core_import_graph() -> dict[str, set[str]]:
    """``{module: {core modules it imports}}``, from every import statement anywhere in the file (module
    level, inside functions, under ``if TYPE_CHECKING``...). ``from core import x`` counts as importing
    ``core.x`` when ``core/x.py`` (or a package ``core/x/``) exists."""
    paths = sorted(CORE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = _module_name(path)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(node, module, path.name == "__init__.py")
                names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                         for alias in node.names]
            else:
                continue
            for name in names:
                while name and name not in modules:  # core.x.y -> core.x (a name inside a module)
                    name = name.rpartition(".")[0]
                if name and name != module and name != "core":
                    targets.add(name)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_core_has_no_import_cycles():
    graph = core_import_graph()
    assert "core.training.learner" in graph["core.training.recipe"]  # function-level imports count
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_relative_and_package_imports_resolve():
    first, second = ast.parse("from . import data\nfrom .runner import worker\n").body
    assert _resolve(first, "core.engine", False) == "core"
    assert _resolve(second, "core.engine", False) == "core.runner"
    assert _resolve(first, "core.runner", True) == "core.runner"


def test_the_public_names_pages_need_import_no_tensorflow():
    code = ("import sys; import core.train, core.photos, core.models, core.inference, core.export, core.lesson, "
            "core.classroom; from core.training import TrainConfig, TrainResult, Callbacks, train, vision_learner; "
            "from core.models import BASES, unfreeze_counts; from core.photos import load_dataset, TF_FLOWERS; "
            "bad = {'tensorflow', 'keras', 'streamlit'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


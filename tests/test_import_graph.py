"""The code's architecture, checked: core/ has no import cycles and its packages import only downwards (LAYERS);
ui/ has no import cycles; pages and ui import only the public names of core's packages; those names import
no TensorFlow. Every import statement counts, inside functions and under ``if TYPE_CHECKING`` too."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

CORE = ROOT / "core"
# core's packages from the bottom up: a module may import its own package and those below it. Packages in one
# tuple sit side by side and may not import each other.
LAYERS = ["utils", ("photos", "models"), "inference", "export", "training", "lesson", "classroom", "cli"]
# ``python -m core.train`` etc.: thin entry modules above every layer (nothing may import them).
ENTRY_MODULES = {"core", "core.train", "core.evaluate", "core.reference"}
# Where pages and ui may import from: each layer's package, and the training queue's own door.
PUBLIC_PACKAGES = {f"core.{name}" for layer in LAYERS for name in ((layer,) if isinstance(layer, str) else layer)}
PUBLIC_PACKAGES |= {"core.classroom.runner"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _sources(folder: Path) -> dict[str, tuple[str, bool]]:
    """``{module: (source, is_package)}`` of every ``.py`` file under ``folder``."""
    return {_module_name(p): (p.read_text(), p.name == "__init__.py") for p in sorted(folder.rglob("*.py"))}


def graph_of(sources: dict[str, tuple[str, bool]], root: str) -> dict[str, set[str]]:
    """``{module: {modules of the same tree it imports}}`` from every import statement anywhere in the source
    (module level, inside functions, under ``if TYPE_CHECKING``...). ``from core import x`` counts as importing
    ``core.x`` when that module (or package) exists; the tree's root package itself is left out."""
    modules = set(sources)
    graph: dict[str, set[str]] = {}
    for module, (source, is_package) in sources.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(source, module)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = _resolve(node, module, is_package)
                names = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                         for alias in node.names]
            else:
                continue
            for name in names:
                while name and name not in modules:  # core.x.y -> core.x (a name inside a module)
                    name = name.rpartition(".")[0]
                if name and name != module and name != root:
                    targets.add(name)
        graph[module] = targets
    return graph


def core_import_graph() -> dict[str, set[str]]:
    return graph_of(_sources(CORE), "core")


def ui_import_graph() -> dict[str, set[str]]:
    return graph_of(_sources(ROOT / "ui"), "ui")


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


def layer_problems(graph: dict[str, set[str]], layers=LAYERS, entries=ENTRY_MODULES) -> list[str]:
    """Each import that goes up (or sideways) in ``layers``, or comes from a package the list does not place."""
    rank = {name: i for i, layer in enumerate(layers) for name in ((layer,) if isinstance(layer, str) else layer)}
    problems = []
    for module, targets in sorted(graph.items()):
        if module in entries:
            continue
        package = module.split(".")[1]
        if package not in rank:
            problems.append(f"{module}: core.{package} is not in LAYERS")
            continue
        for target in sorted(targets):
            if target in entries:
                problems.append(f"{module} -> {target} (an entry module)")
                continue
            other = target.split(".")[1]
            if other != package and (other not in rank or rank[other] >= rank[package]):
                problems.append(f"{module} -> {target}")
    return problems


def public_name_problems(sources: dict[str, str], public: dict[str, set[str]]) -> list[str]:
    """Each import from core in ``{file: source}`` that is not ``from core.<package> import Name`` with ``Name``
    among that package's public names (``public``: ``{package: names}``)."""
    problems = []
    for file, source in sorted(sources.items()):
        for node in ast.walk(ast.parse(source, file)):
            if isinstance(node, ast.Import):
                problems += [f"{file}:{node.lineno} import {a.name}" for a in node.names if a.name.split(".")[0] == "core"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "core":
                names = public.get(node.module)
                if names is None:
                    problems.append(f"{file}:{node.lineno} from {node.module} (not a public package)")
                    continue
                problems += [f"{file}:{node.lineno} from {node.module} import {a.name}"
                             for a in node.names if a.name not in names]
    return problems


def _public_names() -> dict[str, set[str]]:
    return {package: set(getattr(importlib.import_module(package), "__all__", ())) for package in sorted(PUBLIC_PACKAGES)}


def _view_sources() -> dict[str, str]:
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    return {str(f.relative_to(ROOT)): f.read_text() for f in files}


# ------------------------------------------------------------------------------------------------- core
def test_core_has_no_import_cycles():
    graph = core_import_graph()
    assert "core.training.learner" in graph["core.training.recipe"]  # function-level imports count
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_core_packages_import_only_the_layers_below_them():
    graph = core_import_graph()
    assert "core.photos.datasets" in graph["core.training.crossval"]  # the graph holds cross-package imports
    problems = layer_problems(graph)
    assert not problems, "\n".join(problems)


def test_the_layer_check_finds_imports_that_go_up_or_sideways():
    graph = {"core.photos.a": {"core.utils.b", "core.photos.c"}, "core.photos.c": set(),
             "core.utils.b": {"core.training.d"}, "core.training.d": {"core.train"},
             "core.models.e": {"core.photos.a"}, "core.nowhere.f": set(), "core.train": {"core.training.d"}}
    assert layer_problems(graph) == ["core.models.e -> core.photos.a", "core.nowhere.f: core.nowhere is not in LAYERS",
                                     "core.training.d -> core.train (an entry module)", "core.utils.b -> core.training.d"]


# --------------------------------------------------------------------------------------------------- ui
def test_ui_has_no_import_cycles():
    graph = ui_import_graph()
    assert "ui.charts" in graph["ui.kiran"] and "ui.state" in graph  # the graph holds ui's own imports
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_ui_state_imports_nothing_of_the_app():
    assert ui_import_graph()["ui.state"] == set()


def test_function_level_and_type_checking_imports_count_in_the_graph():
    sources = {"ui": ("", True), "ui.a": ("def show():\n    from ui import b\n", False),
               "ui.b": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ui.a import Thing\n", False)}
    graph = graph_of(sources, "ui")
    assert graph == {"ui": set(), "ui.a": {"ui.b"}, "ui.b": {"ui.a"}}
    assert find_cycle(graph) == ["ui.a", "ui.b", "ui.a"]


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_relative_and_package_imports_resolve():
    first, second = ast.parse("from . import data\nfrom .runner import worker\n").body
    assert _resolve(first, "core.engine", False) == "core"
    assert _resolve(second, "core.engine", False) == "core.runner"
    assert _resolve(first, "core.runner", True) == "core.runner"


# -------------------------------------------------------------------------------------- public names
def test_pages_and_ui_import_only_public_names_of_core():
    public = _public_names()
    sources = _view_sources()
    assert sum(source.count("from core.") for source in sources.values()) > 20  # the views were read
    problems = public_name_problems(sources, public)
    assert not problems, "\n".join(problems)


def test_the_public_name_check_finds_what_is_not_public():
    public = {"core.photos": {"load_dataset"}, "core.lesson": {"decide"}}
    source = ("import core.training\nfrom core.photos import load_dataset\nfrom core.photos.images import load_array\n"
              "from core import photos\n\ndef f():\n    from core.lesson import decide, score\n")
    assert public_name_problems({"ui/x.py": source}, public) == [
        "ui/x.py:1 import core.training", "ui/x.py:3 from core.photos.images (not a public package)",
        "ui/x.py:4 from core (not a public package)", "ui/x.py:7 from core.lesson import score"]
    assert public_name_problems({"ui/y.py": "from core.photos import load_dataset as load\n"}, public) == []


def test_no_public_name_is_also_a_submodule_name():
    """Once ``core.models.layer_table`` is imported, ``from core.models import layer_table`` gives the module."""
    for package in sorted(PUBLIC_PACKAGES):
        module = importlib.import_module(package)
        submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
        assert not set(getattr(module, "__all__", ())) & submodules, package


def test_every_public_name_resolves_without_tensorflow():
    code = ("import importlib, sys\n"
            f"for package in {sorted(PUBLIC_PACKAGES)!r}:\n"
            "    module = importlib.import_module(package)\n"
            "    for name in getattr(module, '__all__', ()):\n"
            "        getattr(module, name)\n"
            "bad = {'tensorflow', 'keras', 'streamlit'} & set(sys.modules)\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_the_public_names_pages_need_import_no_tensorflow():
    code = ("import sys; import core.train, core.photos, core.models, core.inference, core.export, core.lesson, "
            "core.classroom; from core.training import TrainConfig, TrainResult, Callbacks, train, vision_learner; "
            "from core.models import BASES, unfreeze_counts; from core.photos import load_dataset, TF_FLOWERS; "
            "bad = {'tensorflow', 'keras', 'streamlit'} & set(sys.modules); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_no_page_or_ui_module_imports_tensorflow_itself():
    """TensorFlow reaches a page only through core (a deferred caller, or a function that imports it)."""
    heavy = {"tensorflow", "keras", "tf_keras"}
    found = []
    for file, source in _view_sources().items():
        for node in ast.walk(ast.parse(source, file)):
            if isinstance(node, ast.Import):
                modules = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules = {(node.module or "").split(".")[0]}
            else:
                continue
            found += [f"{file}:{node.lineno} {module}" for module in sorted(modules & heavy)]
    assert found == []


def test_core_never_imports_streamlit():
    """core/ is plain Python + TensorFlow: whatever starts or talks to Streamlit lives in ui/ or app.py."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert found == []

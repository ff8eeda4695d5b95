"""The shape of the code, checked like behaviour: small functions in the service, no
module-level state that a test or a second worker would have to patch, and import directions
that hold by rule: every folder under ``app/`` has a place in the layers contract
(pyproject.toml, run by ``lint-imports``), no two import each other, and only ``app.main``
imports a router. (Complexity is ruff's C901/PLR0915.)"""

import ast
import itertools
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import grimp

from app.core.paths import BACKEND_DIR

MAX_FUNCTION_LINES = 60
MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "Counter", "OrderedDict", "deque"}


def modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (BACKEND_DIR / package).rglob("*.py"))


def test_no_function_in_the_service_is_longer_than_a_screen():
    long = [
        f"{path.relative_to(BACKEND_DIR)}:{node.lineno} {node.name} ({length} lines)"
        for path in modules("app")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []


def is_mutable(value: ast.expr | None) -> bool:
    if isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp):
        return True
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in MUTABLE_CALLS
    )


def test_the_service_and_the_worker_keep_no_mutable_module_state():
    found = []
    for path in modules("app", "worker"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(BACKEND_DIR)
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and is_mutable(node.value):
                found.append(f"{where}:{node.lineno}")
        found += [f"{where}:{n.lineno} global" for n in ast.walk(tree) if isinstance(n, ast.Global)]
    assert found == []


def test_the_checks_themselves_see_what_they_forbid():
    """A check that cannot fail is no check: both rules flag a sample that breaks them."""
    sample = ast.parse("CACHE = {}\ndef f():\n    global CACHE\n")
    assert is_mutable(sample.body[0].value)
    assert any(isinstance(n, ast.Global) for n in ast.walk(sample))
    assert not is_mutable(ast.parse("LIMITS = (1, 2)").body[0].value)


@cache
def import_graph() -> grimp.ImportGraph:
    return grimp.build_graph("app", include_external_packages=False)


def children_of_app() -> set[str]:
    """Every folder and module directly under ``app/``, as import-linter names them."""
    return {
        path.stem if path.is_file() else path.name
        for path in (BACKEND_DIR / "app").iterdir()
        if (path.is_file() and path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }


def top_level_imports(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Which children of ``app`` each child imports (directly, from any of its modules)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        source = module.split(".")[1] if "." in module else None
        for imported in graph.find_modules_directly_imported_by(module):
            target = imported.split(".")[1] if "." in imported else None
            if source and target and source != target:
                edges[source].add(target)
    return edges


def two_way_imports(edges: Mapping[str, set[str]]) -> list[str]:
    return [
        f"{a} <-> {b}"
        for a, b in itertools.combinations(sorted(edges), 2)
        if b in edges[a] and a in edges.get(b, ())
    ]


def layered_names() -> tuple[dict, set[str]]:
    contracts = tomllib.loads((BACKEND_DIR / "pyproject.toml").read_text())["tool"]
    layers = [c for c in contracts["importlinter"]["contracts"] if c["type"] == "layers"]
    assert len(layers) == 1, "one layers contract orders the whole service"
    names = {
        name.strip() for layer in layers[0]["layers"] for name in layer.replace(":", "|").split("|")
    }
    return layers[0], names


def test_every_folder_under_app_has_a_place_in_the_layers():
    """A new feature cannot slip between hand-kept lists: it fails here (and import-linter's
    ``exhaustive`` check) until the layers contract says what it may import."""
    contract, named = layered_names()
    assert contract["containers"] == ["app"] and contract["exhaustive"] is True
    assert children_of_app() - named == set()
    assert named - children_of_app() == set(), "a layer names a folder that is gone"


def test_no_two_folders_under_app_import_each_other():
    assert two_way_imports(top_level_imports(import_graph())) == []


def router_modules() -> set[str]:
    found = set()
    for path in modules("app"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "APIRouter"
            ):
                found.add(".".join(path.relative_to(BACKEND_DIR).with_suffix("").parts))
    return found


def test_only_app_main_imports_a_router():
    """Features meet through their services, never through each other's routes."""
    graph = import_graph()
    routers = router_modules()
    assert len(routers) >= 14  # every feature with endpoints declares its router(s)
    importers = {
        router: graph.find_modules_that_directly_import(router) - {"app.main"} for router in routers
    }
    assert {router: found for router, found in importers.items() if found} == {}


def test_the_import_rules_see_what_they_forbid():
    """The folder checks flag a made-up cycle, and the router finder sees real routers."""
    assert two_way_imports({"feedback": {"answering"}, "answering": {"feedback", "llm"}}) == [
        "answering <-> feedback"
    ]
    assert two_way_imports({"answering": {"llm"}, "llm": set()}) == []
    assert {"app.feedback.routes", "app.answering.openai_door"} <= router_modules()
    assert "feedback" in top_level_imports(import_graph())["answering"]

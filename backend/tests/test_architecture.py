"""The shape of the code, checked like behaviour: small functions in the service, and no
module-level state that a test or a second worker would have to patch. (Import directions
are import-linter's contracts in pyproject.toml; complexity is ruff's C901/PLR0915.)"""

import ast
from pathlib import Path

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

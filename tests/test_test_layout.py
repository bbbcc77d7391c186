"""The test suite's own layout (issue 19 part 6).

Shared helpers and fixtures live in ``tests/support/``; a test module or a conftest is never
imported by another file, conftest.py files hold fixtures and hooks only, and nothing under
``tests/`` or ``bench/`` edits ``sys.path`` (bench runs as a package: ``python -m bench.x``).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])


def _trees() -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(ROOT)), ast.parse(p.read_text(encoding="utf-8"))) for p in FILES]


def _is_test_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def imports_of_test_modules(tree: ast.Module) -> list[str]:
    """Every import naming a conftest or a test_* module, relative ones included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.module and _is_test_module(node.module):
                found.append(module)
            else:  # from tests.payments import conftest
                found += [f"{module}.{a.name}" for a in node.names if _is_test_module(a.name)]
    return found


def sys_path_edits(tree: ast.Module) -> list[int]:
    """Lines that change the import path: sys.path.insert/append/extend/+=/=, site.addsitedir."""
    lines = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"insert", "append", "extend"}:
                target = node.func.value
            elif node.func.attr == "addsitedir":
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = next((t for t in targets if ast.unparse(t) == "sys.path"), None)
        if target is not None and ast.unparse(target) == "sys.path":
            lines.append(node.lineno)
    return lines


def _is_fixture(node: ast.AST) -> bool:
    return any("fixture" in ast.unparse(d) for d in getattr(node, "decorator_list", []))


def helpers_in_conftest(tree: ast.Module) -> list[str]:
    """Top-level definitions of a conftest that are neither fixtures nor pytest hooks."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not _is_fixture(node) and not node.name.startswith("pytest_"):
                found.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [ast.unparse(t) for t in targets]
            found += [n for n in names if n not in {"pytest_plugins", "pytestmark"}]
    return found


def test_nothing_imports_a_test_module_or_a_conftest():
    found = [f"{path}: {name}" for path, tree in _trees() for name in imports_of_test_modules(tree)]
    assert found == [], "share it from tests/support/ instead"


def test_nothing_edits_sys_path_in_tests_or_bench():
    found = [f"{path}:{line}" for path, tree in _trees() for line in sys_path_edits(tree)]
    assert found == [], "run bench as a package (python -m bench.x); tests import by package"


def test_conftests_hold_fixtures_and_hooks_only():
    found = [
        f"{path}: {name}"
        for path, tree in _trees()
        if path.endswith("conftest.py")
        for name in helpers_in_conftest(tree)
    ]
    assert found == [], "helpers go to tests/support/"


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from tests.payments.conftest import give", ["tests.payments.conftest"]),
        ("from tests.payments import conftest", ["tests.payments.conftest"]),
        ("from .test_refunds import post", [".test_refunds"]),
        ("import tests.test_wiring", ["tests.test_wiring"]),
        (
            "def f():\n    from tests.browser.test_donation import GOOD_CARD",
            ["tests.browser.test_donation"],
        ),
        ("from tests.support.payments import give", []),
        ("from tests.browser.helpers import resize", []),
    ],
)
def test_the_import_check_sees_every_form(source: str, found: list[str]):
    assert imports_of_test_modules(ast.parse(source)) == found


@pytest.mark.parametrize(
    ("source", "edits"),
    [
        ("import sys\nsys.path.insert(0, 'x')", 1),
        ("import sys\nsys.path.append('x')", 1),
        ("import sys\nsys.path += ['x']", 1),
        ("import sys\nsys.path = ['x']", 1),
        ("import site\nsite.addsitedir('x')", 1),
        ("import sys\nprint(sys.path)", 0),
        ("cmd = 'import sys; sys.path.insert(0, d)'", 0),  # code for another process
    ],
)
def test_the_sys_path_check_sees_every_form(source: str, edits: int):
    assert len(sys_path_edits(ast.parse(source))) == edits


def test_the_conftest_check_lets_fixtures_and_hooks_through():
    source = (
        "import pytest\npytest_plugins = ['x']\nHELPER = 1\n"
        "@pytest.fixture\ndef a(): ...\n"
        "def pytest_configure(config): ...\n"
        "def helper(): ...\n"
        "class Thing: ...\n"
    )
    assert helpers_in_conftest(ast.parse(source)) == ["HELPER", "helper", "Thing"]

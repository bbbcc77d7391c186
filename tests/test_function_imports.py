"""Issue 19 part 3: no imports inside functions to dodge a cycle. The layers and the
absence of cycles are `lint-imports`' job (pyproject.toml); this keeps the imports left
inside functions from coming back (scripts/count_function_imports.py counts them,
docs/development.md reports the numbers)."""

from __future__ import annotations

import importlib.util

from charity import ROOT

#: The most imports of charity/ or bench/ modules that may sit inside functions: the app
#: factory's (charity/__init__.py) and the plain `rq worker`'s create_app (charity/ops/jobs.py).
#: Lower it when you remove one; never raise it.
MAX_OWN = 2


def _counter():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "count_function_imports", ROOT / "scripts/count_function_imports.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_imports_of_our_own_modules_inside_functions_do_not_rise():
    counter = _counter()
    own = [
        f"{item.path.relative_to(ROOT)}:{item.line} {item.statement}"
        for item in counter.all_function_imports()
        if counter.own(item.statement)
    ]
    assert len(own) <= MAX_OWN, "\n".join(own)


def test_each_import_left_inside_a_function_says_why():
    """A heavy optional library loaded on use, the worker's app: a comment on the line (or
    the line above) says so."""
    counter = _counter()
    silent = [
        f"{item.path.relative_to(ROOT)}:{item.line} {item.statement}"
        for item in counter.all_function_imports()
        if not item.reason
    ]
    assert silent == []


def test_the_counter_finds_an_import_inside_a_function(tmp_path):
    counter = _counter()
    module = tmp_path / "example.py"
    module.write_text(
        "import os\n\n\ndef f():\n    # why\n    from charity import x\n\n\n"
        "def g():\n    import json  # why not\n",
        encoding="utf-8",
    )
    found = counter.function_imports(module)
    assert [(item.line, item.statement, item.reason) for item in found] == [
        (6, "from charity import x", "why"),
        (10, "import json", "why not"),
    ]
    assert [counter.own(item.statement) for item in found] == [True, False]

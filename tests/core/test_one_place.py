"""Issue 19 point 5: one CSV/XLSX writer and one file store, checked over charity/.

Reading CSV (bill and receipt imports) is anyone's business; writing one, or a workbook,
is charity.web.exports' (every cell through ``safe_cell``). Files people upload are
written by charity.services.uploads only; the other writers are the development mail
folder and the audit log's own files (tiles, witness state, the verifier's cache).
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2] / "charity"

#: Modules that write files of their own, each for the reason in the docstring above.
FILE_WRITERS = {
    "charity/services/uploads.py",
    "charity/ops/mail.py",
    "charity/auditlog/publish.py",
    "charity/auditlog/verifier.py",
    "charity/auditlog/witness.py",
}


def _modules():  # type: ignore[no-untyped-def]
    for path in sorted(ROOT.rglob("*.py")):
        yield str(path.relative_to(ROOT.parent)), ast.parse(path.read_text(encoding="utf-8"))


def _calls(tree: ast.AST):  # type: ignore[no-untyped-def]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            yield owner, name, node


def test_only_the_exports_module_writes_csv_or_xlsx():
    found = []
    for name, tree in _modules():
        if name == "charity/web/exports.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                modules += [alias.name for alias in node.names]
                if any(m.split(".")[0] in ("openpyxl", "xlsxwriter") for m in modules):
                    found.append(f"{name}: imports a workbook writer")
        for owner, call, _node in _calls(tree):
            if owner == "csv" and call in ("writer", "DictWriter"):
                found.append(f"{name}: csv.{call}")
    assert found == []


def test_only_the_upload_store_and_the_logs_write_files():
    found = []
    for name, tree in _modules():
        if name in FILE_WRITERS:
            continue
        for owner, call, node in _calls(tree):
            if call in ("write_bytes", "write_text", "fdopen"):
                found.append(f"{name}:{node.lineno} {call}")
            elif call == "open" and owner in ("", "io", "os"):
                mode = node.args[1] if len(node.args) > 1 else None
                mode = next((k.value for k in node.keywords if k.arg == "mode"), mode)
                if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+"):
                    found.append(f"{name}:{node.lineno} open(..., {mode.value!r})")
    assert found == []

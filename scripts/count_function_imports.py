"""Count the imports made inside functions (issue 19 part 3).

    .venv/bin/python scripts/count_function_imports.py [-v] [--max-own N]

Prints each one (path:line, the statement) with ``-v``, then the totals for charity/ and
bench/: all of them, and those of the project's own modules (the ones that can hide an
import cycle). With ``--max-own N`` it fails (exit 1) when the own-module count is above N.
docs/development.md reports the numbers; tests/test_function_imports.py keeps them from
rising and checks that each one left says why on its line or the line above.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("charity", "bench")


class FunctionImport(NamedTuple):
    path: Path
    line: int
    statement: str
    reason: str  # the comment on the statement's line or the line above ("" when none)


def function_imports(path: Path) -> list[FunctionImport]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[FunctionImport] = []

    def reason(node: ast.stmt) -> str:
        above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
        for text in (*lines[node.lineno - 1 : node.end_lineno], above):
            if "#" in text:
                return text.split("#", 1)[1].strip()
        return ""

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and in_function:
                found.append(FunctionImport(path, child.lineno, ast.unparse(child), reason(child)))
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def own(statement: str) -> bool:
    return any(
        f"{word} {package}" in statement for word in ("import", "from") for package in FOLDERS
    )


def all_function_imports() -> list[FunctionImport]:
    return [
        found
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for found in function_imports(path)
    ]


def main(argv: list[str]) -> int:
    found = all_function_imports()
    own_count = sum(own(item.statement) for item in found)
    if "-v" in argv:
        for item in found:
            print(f"{item.path.relative_to(ROOT)}:{item.line} {item.statement}")
    print(f"imports inside functions: {len(found)} (of the project's own modules: {own_count})")
    if "--max-own" in argv:
        limit = int(argv[argv.index("--max-own") + 1])
        if own_count > limit:
            print(f"more than {limit} imports of the project's own modules inside functions")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

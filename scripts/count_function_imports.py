"""Count the imports made inside functions (issue 19 part 3).

    .venv/bin/python scripts/count_function_imports.py [-v]

Prints each one (path:line, the statement) with ``-v``, then the totals for charity/ and
bench/: all of them, and those of the project's own modules (the ones that can hide an
import cycle). docs/development.md reports the numbers.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def function_imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom) and in_function:
                found.append((child.lineno, ast.unparse(child)))
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def own(statement: str) -> bool:
    return any(
        f"{word} {package}" in statement
        for word in ("import", "from")
        for package in ("charity", "bench")
    )


def main(argv: list[str]) -> int:
    everything = own_count = 0
    for folder in ("charity", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, statement in function_imports(path):
                everything += 1
                own_count += own(statement)
                if "-v" in argv:
                    print(f"{path.relative_to(ROOT)}:{line} {statement}")
    print(f"imports inside functions: {everything} (of the project's own modules: {own_count})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

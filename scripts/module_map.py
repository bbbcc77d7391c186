"""Print the module map of docs/architecture.md ("Every module"): each package of charity/
and each of its modules with the first paragraph of its docstring.

    .venv/bin/python scripts/module_map.py > /tmp/map.txt   # then paste it into the doc
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    return first if len(first) <= 150 else first[:147].rsplit(" ", 1)[0] + " ..."


def main() -> None:
    packages = sorted(
        path.parent
        for path in (ROOT / "charity").rglob("__init__.py")
        if "__pycache__" not in path.parts and "translations" not in path.parts
    )
    for folder in packages:
        print(f"\n{folder.relative_to(ROOT)}/")
        for module in sorted(folder.glob("*.py")):
            print(f"  {module.name:<24} {summary(module)}".rstrip())


if __name__ == "__main__":
    main()

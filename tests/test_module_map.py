"""docs/architecture.md's "Every module" map lists every package and module of charity/
(issue 19 part 9: a true map). Regenerate it with ``scripts/module_map.py``."""

from __future__ import annotations

import re

from charity import ROOT


def _map_block() -> str:
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    section = text.split("## Every module", 1)[1]
    return section.split("```", 2)[1]


def test_every_module_of_charity_is_on_the_map():
    listed: set[str] = set()
    package = ""
    for line in _map_block().splitlines():
        if re.fullmatch(r"charity[\w/]*/", line.strip()):
            package = line.strip()
        elif line.startswith("  ") and line.split()[0].endswith(".py"):
            listed.add(package + line.split()[0])
    modules = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "charity").rglob("*.py")
        if "__pycache__" not in path.parts and "translations" not in path.parts
    }
    assert sorted(modules - listed) == []
    assert sorted(listed - modules) == []

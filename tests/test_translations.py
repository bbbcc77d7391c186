"""Chinese first: every user-facing string has a Simplified Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from charity import ROOT

PO = ROOT / "charity/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
METHODS = [
    ("charity/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),  # mail bodies (issue 17.2)
]


def _source_msgids() -> set[str]:
    found: set[str] = set()
    for _, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT),
        METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {}, "templates/**.txt": {}},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_source_string_has_a_chinese_translation():
    with Path(PO).open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[key] = all(strings) and not message.fuzzy
    missing = sorted(m for m in _source_msgids() if not translated.get(m))
    assert not missing, (
        f"{len(missing)} strings lack a Chinese translation; run `make messages`, then "
        f"scripts/translations.py export/import. First ones: {missing[:10]}"
    )


def test_the_catalog_has_no_duplicate_entries():
    """gettext's ``msgfmt -c`` refuses a catalog where an obsolete ``#~`` entry repeats an
    active msgid (merges leave them behind); the catalog keeps active entries only."""
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    assert sorted(str(key) for key in catalog.obsolete) == []

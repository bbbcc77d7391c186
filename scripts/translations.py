"""Translation helpers for the Simplified Chinese catalog.

  python scripts/translations.py export OUT.json [--chunks N]   untranslated/fuzzy msgids
  python scripts/translations.py import IN.json [IN2.json ...]  write translations back
  python scripts/translations.py check                          fail on missing translations

JSON files map msgid -> msgstr (plurals: msgid -> [singular, plural]).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "charity/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def _load():  # type: ignore[no-untyped-def]
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def _key(message) -> str:  # type: ignore[no-untyped-def]
    return message.id[0] if isinstance(message.id, tuple) else message.id


def missing(catalog) -> list:  # type: ignore[no-untyped-def]
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message)
    return out


def export(path: str, chunks: int = 1) -> None:
    todo = {_key(m): "" for m in missing(_load())}
    keys = list(todo)
    size = max(1, -(-len(keys) // chunks))
    for n in range(chunks):
        part = {k: "" for k in keys[n * size : (n + 1) * size]}
        target = path if chunks == 1 else path.replace(".json", f".{n}.json")
        Path(target).write_text(json.dumps(part, ensure_ascii=False, indent=1))
        print(target, len(part))


def import_(paths: list[str]) -> None:
    translations: dict = {}
    for path in paths:
        translations.update(json.loads(Path(path).read_text()))
    catalog = _load()
    done = 0
    for message in catalog:
        value = translations.get(_key(message)) if message.id else None
        if not value:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(value) if isinstance(value, list) else (value, value)
        else:
            message.string = value
        message.flags.discard("fuzzy")
        done += 1
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100)
    print(f"imported {done} translations; {len(missing(catalog))} still missing")


def check() -> int:
    todo = missing(_load())
    for message in todo:
        print("untranslated:", _key(message))
    return 1 if todo else 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["check"]
    if command == "export":
        chunks = int(rest[rest.index("--chunks") + 1]) if "--chunks" in rest else 1
        export(rest[0], chunks)
    elif command == "import":
        import_(rest)
    else:
        sys.exit(check())

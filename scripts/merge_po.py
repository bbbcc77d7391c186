"""A git merge driver for gettext catalogs: the union of both sides' messages.

Parallel branches each add strings to messages.pot and messages.po; a line-based merge
then conflicts wherever two branches added entries next to each other. This driver keeps
our side's catalog and adds every message only their side has (translations included).
When both sides changed the same message differently, ours wins and the msgid is printed;
`make messages` afterwards drops what no source uses any more.

Enable it once per clone (.gitattributes names it for *.po and *.pot):

    git config merge.gettext.driver "python3 scripts/merge_po.py %O %A %B"
"""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po


def _read(path: str):  # type: ignore[no-untyped-def]
    with open(path, "rb") as handle:
        return read_po(handle)


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a is not None and b is not None and a.string == b.string and a.fuzzy == b.fuzzy


def merge(base_path: str, ours_path: str, theirs_path: str) -> None:
    base, ours, theirs = _read(base_path), _read(ours_path), _read(theirs_path)
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        if mine is None:
            if base.get(message.id, message.context) is None:  # added on their side
                ours[message.id] = message
            continue
        if _same(mine, message):
            continue
        before = base.get(message.id, message.context)
        if _same(mine, before):  # only they changed it
            ours[message.id] = message
        elif not _same(message, before):
            print(f"merge_po: both sides changed {message.id!r}; kept ours", file=sys.stderr)
    with open(ours_path, "wb") as handle:
        write_po(handle, ours, width=76)


if __name__ == "__main__":
    merge(*sys.argv[1:4])

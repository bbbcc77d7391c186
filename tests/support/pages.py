"""Reading a page's visible text: what a Chinese reader sees (no raw codes, no stray English)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: snake_case or dotted identifiers, a code in parentheses, the word fen.
RAW_CODE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b|\(\s*[a-z_]+\s*\)|\bfen\b", re.IGNORECASE)
#: four English words in a row: a sentence nobody translated.
ENGLISH = re.compile(r"\b[A-Za-z]+ [a-z]+ [a-z]+ [a-z]+\b")
#: what may look like code but is not (addresses, domains, e-mails, links).
NOT_CODE = re.compile(
    r"\S+@\S+|https?://\S+|[\w.-]+\.(?:cn|com|org|net|charity|gov|pem)\b|\b\d+(?:\.\d+)+\b"
)


class PageText(HTMLParser):
    """Visible text (outside script/style and the technical <pre>/<code>) and links."""

    HIDDEN = frozenset({"script", "style", "pre", "code", "template"})

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in self.HIDDEN:
            self._hidden += 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in self.HIDDEN:
            self._hidden -= 1

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self._hidden:
            self.text.append(data)


def problems_in_text(text: str) -> list[str]:
    text = NOT_CODE.sub(" ", text)
    return sorted(set(RAW_CODE.findall(text)) | set(ENGLISH.findall(text)))

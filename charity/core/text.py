"""User-written text: Markdown rendered to sanitized HTML, plain-text clean-up."""

from __future__ import annotations

import unicodedata

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
    "h5",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def render_markdown(source: str | None) -> Markup:
    """Markdown -> HTML with raw HTML disabled, then a real sanitizer (nh3) on the result."""
    html = _md.render(source or "")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitized by nh3 just above


_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_ALLOWED_CONTROLS = {"\n", "\t"}


def has_forbidden_characters(value: str) -> bool:
    """NUL and other control characters, unpaired surrogates, unassigned code points."""
    return any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES and ch not in _ALLOWED_CONTROLS
        for ch in value.replace("\r\n", "\n")
    )

"""HTML to plain text for what the author wrote (an HTML-only mail, an HTML post): paragraphs kept as
paragraphs, entities decoded, and what is not the author's prose left out: scripts and styles, a
page's navigation, header, footer and forms, and quotations (`<blockquote>`: someone else's words,
or in a mail the message being answered)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

SKIPPED = {"script", "style", "head", "nav", "header", "footer", "aside", "form", "blockquote", "template"}
BLOCKS = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "pre", "section", "article", "hr"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# class names a mail client marks blocks with (in a class attribute): the message answered, a signature
SKIPPED_CLASSES = {"gmail_quote", "gmail_signature"}
VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "source", "area", "base", "col", "embed"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []  # open skipped elements (nested ones count)
        self.title = ""
        self.h1 = ""
        self._in: str | None = None  # "title" or "h1" while reading one

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "title":  # inside <head>, which is otherwise skipped
            self._in = "title"
            return
        if tag in VOID:
            if tag in BLOCKS and not self.skipping:
                self.parts.append("\n")
            return
        if self.skipping or tag in SKIPPED or any(c in classes for c in SKIPPED_CLASSES):
            self.skipping.append(tag)
            return
        if tag == "h1" and not self.h1:
            self._in = "h1"
        if tag in BLOCKS or tag in HEADINGS:
            self.parts.append("\n\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in = None
            return
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag == self._in:
            self._in = None
        if tag in BLOCKS or tag in HEADINGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in == "title":
            self.title += data  # the document's title is not part of its text
            return
        if self.skipping:
            return
        if self._in == "h1":
            self.h1 += data
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(the text, the title: `<title>`, else the first `<h1>`, else "")."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v\u00a0]+", " ", "".join(parser.parts))
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, " ".join((parser.title or parser.h1).split())

"""Markdown from the site's content files (the about page, musings) as HTML that holds nothing but
Markdown's own elements: raw HTML in the text is shown as text, a link or image may only point at an
http(s) or mailto URL or a path of the site (any other, javascript: and data: among them, leaves its
words as plain text), and no element keeps an attribute outside a short list (attr_list, part of
"extra", could otherwise write event handlers). The page's CSP would stop inline script anyway; this
keeps the HTML itself clean, whatever a content file holds."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree

import markdown as md
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

SAFE_SCHEMES = {"http", "https", "mailto"}
KEPT_ATTRIBUTES = {"href", "src", "alt", "title", "id", "class", "start", "colspan", "rowspan", "align"}
# What a browser ignores in a URL before reading its scheme (so "java\tscript:" is javascript:).
IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def safe_url(url: str) -> bool:
    """Whether `url` is an http(s) or mailto URL or a path (no scheme), once entities are decoded."""
    bare = IGNORED_IN_URL.sub("", html.unescape(url))
    scheme = SCHEME.match(bare)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


class _Clean(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, node in enumerate(list(parent)):
                for name in [a for a in node.attrib if a.lower() not in KEPT_ATTRIBUTES]:
                    del node.attrib[name]
                target = node.get("href") if node.tag == "a" else node.get("src") if node.tag == "img" else None
                if target is not None and not safe_url(target):
                    parent[index] = _as_text(node)


def _as_text(node: etree.Element) -> etree.Element:
    """A link or image whose target may not be followed: its words (an image's alt text), inert."""
    span = etree.Element("span")
    span.text = node.get("alt", "") if node.tag == "img" else "".join(node.itertext())
    span.tail = node.tail
    return span


class _SafeExtension(Extension):
    def extendMarkdown(self, markdown: md.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        markdown.preprocessors.deregister("html_block")
        markdown.inlinePatterns.deregister("html")
        markdown.treeprocessors.register(_Clean(markdown), "tabtwin_clean", 0)  # last: after attr_list


def render(text: str) -> str:
    return md.markdown(text, extensions=["extra", "sane_lists", _SafeExtension()], output_format="html")

"""An author's essays and notes -> paragraph-sized (prompt, paragraph) conversations.

Exported writing carries artefacts the twin must not learn to say: newsletter
footers ("Subscribe for more"), share/copyright lines, footnote markers ([1], [^2],
^3, superscripts), HTML tags, link syntax. We clean those, keep the prose, and cut
it into paragraphs of `min_chars`..`max_chars` (short ones joined to the next,
long ones cut at a sentence end). Each paragraph becomes one pair whose prompt
names the piece and its section, e.g.

    Write your piece "On Slow Software", the section "Why it matters" (part 2 of 3).

Fenced code blocks and sections titled Footnotes/Notes/References are dropped:
they are not the author's voice in prose.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from tabtwin.finetune.data.sources import Conversation

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")

# Lines that are export artefacts, not prose. Only short lines are tested, so a
# paragraph that happens to mention a newsletter survives.
BOILERPLATE = re.compile(
    r"subscribe|newsletter|sign up|share (this|on)|follow (me|us)|all rights reserved|copyright|©|\(c\) \d{4}"
    r"|^posted (on|in|by)\b|^tags?:|^categor(y|ies):|^filed under|leave a comment|^\d+ comments?$|^comments$"
    r"|thanks for reading|^read more\b|^originally published|^(previous|next) post|powered by"
    r"|\bmin(ute)?s? read\b|\btagged:|comments are closed|^if you (liked|enjoyed) (this|it)|forward (it|this) to"
    r"|view (it )?in (your )?browser|\bcookies?\b|^share:",
    re.IGNORECASE,
)
BOILERPLATE_MAX_CHARS = 200
DROPPED_SECTIONS = re.compile(
    r"^(foot ?notes|notes|references|endnotes|comments?( \(\d+\))?|related( posts)?)$", re.IGNORECASE
)
# HTML elements that hold site furniture rather than the piece, by class or id.
FURNITURE = re.compile(
    r"comment|share|footer|byline|newsletter|subscribe|related|cookie|sidebar|\bnav|\bmeta\b", re.IGNORECASE
)

FOOTNOTE_MARKERS = [
    re.compile(r"\[\^[^\]\s]+\]"),  # [^1], [^note]
    re.compile(r"(?<=[\w.,;:!?)\"'])\[\d{1,3}\]"),  # word[1], word.[12]
    re.compile(r"\^\[?\d{1,3}\]?"),  # ^1, ^[1]
    re.compile(r"[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+"),  # ¹ ² ³ ⁴ ...
]
INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<(https?://[^>]+)>"), r"\1"),  # <http://...>
    (re.compile(r"<[^>\n]+>"), ""),  # stray inline HTML tags
    (re.compile(r"`([^`]+)`"), r"\1"),  # `code`
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **bold**
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)"), r"\1"),  # *italic*
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w])"), r"\1"),  # _italic_
]
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")


def read_writing(folder: Path, min_chars: int, max_chars: int) -> tuple[list[Conversation], int]:
    """All pieces under `folder` (sorted, recursive) -> conversations, and the number of files read."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    pairs = []
    for path in files:
        name = path.relative_to(folder.parent).as_posix()
        pairs += piece_to_pairs(
            path.read_text(encoding="utf-8", errors="replace"),
            path.suffix.lower(),
            name,
            path.stem,
            min_chars,
            max_chars,
        )
    return pairs, len(files)


def piece_to_pairs(text: str, suffix: str, where: str, stem: str, min_chars: int, max_chars: int) -> list[Conversation]:
    if suffix in (".html", ".htm"):
        lines = html_to_lines(text)
    else:  # HTML comments may span lines: blank them out, keeping the line numbers
        text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
        lines = list(enumerate(text.splitlines(), 1))
    title, blocks = paragraphs(lines, markdown=suffix != ".txt")
    title = title or stem.replace("-", " ").replace("_", " ").strip().capitalize()
    sections: dict[str | None, list[tuple[int, str]]] = {}
    for line, heading, para in blocks:
        sections.setdefault(heading, []).append((line, para))
    pairs = []
    for heading, paras in sections.items():
        sized = resize(paras, min_chars, max_chars)
        for k, (line, para) in enumerate(sized, 1):
            prompt = f'Write your piece "{title}"'
            if heading and heading != title:
                prompt += f', the section "{heading}"'
            if len(sized) > 1:
                prompt += f" (part {k} of {len(sized)})"
            pairs.append(
                Conversation(
                    f"{where}:{line}",
                    [{"role": "user", "content": prompt + "."}, {"role": "assistant", "content": para}],
                    "writing",
                    "writing",
                )
            )
    return pairs


def paragraphs(lines: list[tuple[int, str]], markdown: bool) -> tuple[str | None, list[tuple[int, str | None, str]]]:
    """Clean lines -> (title, [(first line number, section heading, paragraph text)])."""
    title, first = front_matter(lines, markdown)
    heading = None
    blocks: list[tuple[int, str | None, str]] = []
    current: list[str] = []
    start = 0
    in_fence = dropping = False

    def flush():
        nonlocal current
        text = " ".join(s.strip() for s in current).strip()
        text = re.sub(r"\s{2,}", " ", text)
        if text and not dropping:
            blocks.append((start, heading, text))
        current = []

    for index, (number, raw) in enumerate(lines[first:], first):
        line = raw.rstrip()
        if markdown and line.lstrip().startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if markdown and (m := re.match(r"\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)):
            flush()
            text = clean_inline(m.group(2))
            if title is None and len(m.group(1)) == 1:
                title = text
            else:
                heading = text
                dropping = bool(DROPPED_SECTIONS.match(text))
            continue
        if markdown and re.match(r"\s*([-*_])(\s*\1){2,}\s*$", line):  # horizontal rule
            flush()
            continue
        if re.match(r"\s*\[(\^?[^\]]+)\]:\s", line):  # footnote or link reference definitions
            flush()
            continue
        if (
            not markdown
            and title is None
            and not blocks
            and not current
            and line.strip()
            and len(line) < 100
            and (index + 1 == len(lines) or not lines[index + 1][1].strip())
        ):
            title = line.strip()
            continue
        text = clean_inline(re.sub(r"^\s*>\s?", "", line)) if markdown else clean_footnotes(line)
        if not text.strip() or (len(text) <= BOILERPLATE_MAX_CHARS and BOILERPLATE.search(text)):
            flush()
            continue
        if not current:
            start = number
        current.append(text)
    flush()
    return title, blocks


def front_matter(lines: list[tuple[int, str]], markdown: bool) -> tuple[str | None, int]:
    """A Markdown file's front matter ("---" first, to "---" or "..."): its title, if it names one,
    and the index of the first line after it (0 without front matter)."""
    if not (markdown and lines and lines[0][1].strip() == "---"):
        return None, 0
    title = None
    for index, (_, raw) in enumerate(lines[1:], 1):
        line = raw.rstrip()
        if line.strip() in ("---", "..."):
            return title, index + 1
        if m := re.match(r"title:\s*(.+)", line, re.IGNORECASE):
            title = m.group(1).strip().strip("\"'")
    return title, len(lines)


def clean_footnotes(text: str) -> str:
    for marker in FOOTNOTE_MARKERS:
        text = marker.sub("", text)
    return text


def clean_inline(text: str) -> str:
    text = clean_footnotes(text)
    for pattern, repl in INLINE:
        text = pattern.sub(repl, text)
    return html.unescape(text)


def resize(paras: list[tuple[int, str]], min_chars: int, max_chars: int) -> list[tuple[int, str]]:
    """Join short paragraphs to the next, cut long ones at sentence ends."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for line, text in paras:
        if pending:
            line, text = pending[0], pending[1] + "\n\n" + text
            pending = None
        if len(text) < min_chars:
            pending = (line, text)
        else:
            joined.append((line, text))
    if pending:
        if joined and len(joined[-1][1]) + len(pending[1]) <= max_chars:
            joined[-1] = (joined[-1][0], joined[-1][1] + "\n\n" + pending[1])
        else:
            joined.append(pending)
    out = []
    for line, text in joined:
        if len(text) <= max_chars:
            out.append((line, text))
            continue
        chunk = ""
        for sentence in SENTENCE_END.split(text):
            if chunk and len(chunk) + 1 + len(sentence) > max_chars:
                out.append((line, chunk))
                chunk = sentence
            else:
                chunk = f"{chunk} {sentence}".strip()
        if chunk:
            out.append((line, chunk))
    return out


class _HtmlText(HTMLParser):
    """HTML -> markdown-ish lines with their source line numbers (headings as '#', blocks split).

    Site furniture is skipped: navigation, header/footer, scripts, <sup> footnote
    markers, and any element whose class or id says comments/share/newsletter/....
    """

    SKIP = {
        "script",
        "style",
        "nav",
        "footer",
        "header",
        "aside",
        "form",
        "noscript",
        "sup",
        "button",
        "svg",
        "template",
    }
    BLOCK = {"p", "div", "li", "blockquote", "section", "article", "br", "tr", "pre", "ul", "ol", "figure", "main"}
    VOID = {"br", "img", "meta", "link", "input", "hr", "wbr", "source", "area", "base", "col", "embed", "track"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.buffer: list[str] = []
        self.line = 1
        self.open: list[tuple[str, bool]] = []  # (tag, skipped) of the elements we are inside
        self.heading = 0
        self.title = None
        self.in_title = False

    @property
    def skipping(self) -> bool:
        return any(skipped for _, skipped in self.open)

    def _flush(self):
        text = re.sub(r"\s+", " ", "".join(self.buffer)).strip()
        if text:
            prefix = "#" * self.heading + " " if self.heading else ""
            self.lines.append((self.line, prefix + text))
            self.lines.append((self.line, ""))
        self.buffer = []

    def handle_starttag(self, tag, attrs):
        is_heading = re.fullmatch(r"h[1-6]", tag) is not None
        if is_heading or tag in self.BLOCK:
            self._flush()
            self.line = self.getpos()[0]
            self.heading = int(tag[1]) if is_heading else 0
        if tag == "title":
            self.in_title = True
        if tag not in self.VOID:
            marks = " ".join(v or "" for k, v in attrs if k in ("class", "id"))
            self.open.append((tag, tag in self.SKIP or bool(marks and FURNITURE.search(marks))))

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK:
            self._flush()
            self.heading = 0
        if any(t == tag for t, _ in self.open):  # close it and anything left unclosed inside it
            while self.open and self.open.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if self.in_title:
            self.title = (self.title or "") + data.strip()
        elif not self.skipping:
            if not self.buffer:
                self.line = self.getpos()[0]
            self.buffer.append(data)


def html_to_lines(text: str) -> list[tuple[int, str]]:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    parser._flush()
    lines = parser.lines
    if parser.title and not any(line.startswith("# ") for _, line in lines):
        lines.insert(0, (1, "# " + parser.title))
    # Markdown syntax typed into HTML text (e.g. "*" or "[1]") is cleaned like markdown.
    return lines

"""The grounding index: the author's own material cut into passages, `_site/grounding.<hash>.json`.

The page's core (wasm/core/src/grounding) retrieves passages from it for each visitor turn and shows
them as sources, so the file is a contract:

    {"format": 1, "passages": [{"id", "source", "title", "url", "text"}, ...]}

`id` is unique and stable (source + slug), `source` one of registry.GROUNDING_SOURCES, `title` the
page's name, `url` relative to the site root as the site's own links are ("" for the Q&A, which has
no page), `text` a passage that reads on its own. Compact UTF-8 JSON, passages in a fixed order
(GROUNDING_SOURCES, then the order of the content). models.json names the file under "grounding".

Passages come from the content the pages are rendered from (site.content) and from the persona's
Q&A seeds; they are 40-120 words where the material allows it: a page is split at its headings,
then between paragraphs, and only then between sentences, never inside one. An entry shorter
than that (a book, a project, one Q&A) is one passage.

The index is published like the rest of the site; the build lists every passage in a report
(REPORT_NAME, a dot-file in the output: not published, not in the service worker's shell).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import write_bytes_atomic, write_text_atomic
from tabtwin.site.content import SiteContent
from tabtwin.site.registry import GROUNDING_SOURCES, Grounding
from tabtwin.site.render import NAV

FORMAT = 1  # the core reads this number (wasm/core/src/grounding/index.rs FORMAT)
MIN_WORDS, MAX_WORDS, TARGET_WORDS = 40, 120, 80
EMBEDDING_DIM = 384  # all-MiniLM-L6-v2's; the core checks it against the embedder it loads
EMBEDDER_LABEL = "all-MiniLM-L6-v2"
REPORT_NAME = ".tabtwin-grounding.txt"
# Seed kinds (finetune/data/ada/README.md) that state facts about the author: "fact" (her name, work,
# projects, books, contact, and the honest "I don't know" about what she never wrote about). Not
# "tool" (browse requests whose answers only introduce an app: the entries themselves are indexed
# from the site), "contrast" (general knowledge, not about her) or "style" (greetings, jokes, refusals).
QA_KINDS = ("fact",)
PAGE_TITLES = {href.rstrip("/"): label for href, label in NAV}  # "about" -> "About", as the nav names it


class GroundingError(TabtwinError):
    """Material the index cannot be built from (a Q&A file that is not JSON lines of seeds)."""


@dataclass
class Passage:
    id: str
    source: str
    title: str
    url: str
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class Index:
    """What a build wrote: the models.json entry, the passages, and where the report is."""

    entry: dict  # {"file", "sha256", "bytes", "passages"}
    passages: list[Passage]
    report: Path

    def counts(self) -> dict[str, int]:
        return {s: n for s in GROUNDING_SOURCES if (n := sum(p.source == s for p in self.passages))}

    def line(self) -> str:
        counts = ", ".join(f"{s} {n}" for s, n in self.counts().items()) or "nothing"
        return (
            f"grounding: {self.entry['passages']} passages ({counts}), {self.entry['bytes'] / 1e3:.1f} kB "
            f"in {self.entry['file']}; every passage listed in {self.report}"
        )


def slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_text.lower().replace("'", "")).split()
    out = ""
    for word in words:
        if out and len(out) + 1 + len(word) > limit:
            break
        out = f"{out}-{word}" if out else word[:limit]
    return out or "entry"


# --- text: rendered Markdown -> blocks -> sentences -> passages --------------------------------------

BLOCK_TAGS = {"p", "li", "pre", "blockquote", "dt", "dd", "td", "th", "tr", "div", "ul", "ol", "table", "hr"}
HEADINGS = {f"h{n}" for n in range(1, 7)}


@dataclass
class Block:
    text: str
    heading: int = 0  # its level for a heading, 0 for text
    anchor: str | None = None  # a heading's id attribute: the page's #fragment for its section


class _Blocks(HTMLParser):
    """The text blocks of rendered Markdown (the HTML the page shows, so the index says what it says)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.heading: tuple[int, str | None] | None = None

    def flush(self) -> None:
        text = " ".join("".join(self.parts).split())
        self.parts = []
        if text:
            level, anchor = self.heading or (0, None)
            self.blocks.append(Block(text, level, anchor))
        self.heading = None

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS or tag in HEADINGS:
            self.flush()
        if tag in HEADINGS:
            self.heading = (int(tag[1]), dict(attrs).get("id"))
        elif tag == "br":
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS or tag in HEADINGS:
            self.flush()

    def handle_data(self, data):
        self.parts.append(data)


def blocks_of(html: str) -> list[Block]:
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    parser.flush()
    return parser.blocks


# A sentence ends at . ! ? or … (and any closing quotes or brackets), before a space and a capital
# letter or digit; an initial ("C. Scott") or a common abbreviation does not end one.
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
ABBREVIATIONS = {"e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "ms.", "dr.", "st.", "no.", "cf.", "approx."}


def sentences(text: str) -> list[str]:
    out, start = [], 0
    for match in SENTENCE_END.finditer(text):
        rest = text[match.end() :].lstrip("\"'“‘([")
        last = text[start : match.end()].split()[-1].rstrip("\"'”’)]")
        if not rest or not (rest[0].isupper() or rest[0].isdigit()):
            continue
        if last.lower() in ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", last):
            continue
        out.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


@dataclass
class Unit:
    """A sentence, where it starts (a new section, a new paragraph or mid-paragraph) and its section."""

    text: str
    words: int
    starts: str  # "section" | "paragraph" | "sentence"
    section: int  # index into the page's sections


BREAK_COST = {"section": 0.0, "paragraph": 2.0, "sentence": 6.0}
CROSS_SECTION_COST = 4.0  # a passage that runs on past a heading (to reach 40 words)


def _cost(units: list[Unit], i: int, j: int) -> float:
    """How bad units[i:j] is as one passage (lower is better), counting the break after it."""
    words = sum(u.words for u in units[i:j])
    cost = 1.0 + abs(words - TARGET_WORDS) / 40
    if words < MIN_WORDS:
        cost += 100.0 * (MIN_WORDS - words)
    if words > MAX_WORDS and j - i > 1:  # one sentence over the limit is never split
        cost += 100.0 * (words - MAX_WORDS)
    cost += sum(CROSS_SECTION_COST for u in units[i + 1 : j] if u.starts == "section")
    if j < len(units):
        cost += BREAK_COST[units[j].starts]
    return cost


def chunk(units: list[Unit]) -> list[list[Unit]]:
    """The cheapest split of a page's sentences into passages (dynamic programming over break points):
    40-120 words each whenever the text allows, breaking at headings before paragraphs before sentences."""
    n = len(units)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * n
    for j in range(1, n + 1):
        words = 0
        for i in range(j - 1, -1, -1):
            words += units[i].words
            if words > 4 * MAX_WORDS and j - i > 1:
                break  # far over the limit: never the cheapest
            cost = best[i][0] + _cost(units, i, j)
            if cost < best[j][0]:
                best[j] = (cost, i)
    cuts, j = [], n
    while j > 0:
        i = best[j][1]
        cuts.append(units[i:j])
        j = i
    return cuts[::-1]


@dataclass
class Section:
    key: str  # the slug of its heading ("" before the first one)
    anchor: str | None


def page_units(blocks: list[Block]) -> tuple[list[Unit], list[Section]]:
    """Sentences of a page's blocks; a leading h1 is the page's title, not a section."""
    if blocks and blocks[0].heading == 1:
        blocks = blocks[1:]
    sections, units, pending = [Section("", None)], [], "paragraph"
    for block in blocks:
        if block.heading:
            sections.append(Section(block.anchor or slug(block.text), block.anchor))
            pending = "section"
            continue
        for k, sentence in enumerate(sentences(block.text)):
            starts = pending if k == 0 else "sentence"
            units.append(Unit(sentence, len(sentence.split()), starts, len(sections) - 1))
        pending = "paragraph"
    if units:
        units[0].starts = "section"
    return units, sections


def _join(units: list[Unit]) -> str:
    return "".join(("" if k == 0 else "\n" if u.starts != "sentence" else " ") + u.text for k, u in enumerate(units))


class _Ids:
    """Unique ids: a repeated one gets -2, -3, … in the order passages are made."""

    def __init__(self):
        self.used: set[str] = set()

    def __call__(self, wanted: str) -> str:
        out, n = wanted, 1
        while out in self.used:
            n += 1
            out = f"{wanted}-{n}"
        self.used.add(out)
        return out


def page_passages(
    html: str, source: str, base_id: str, title: str, url: str, ids: _Ids, intro: str = ""
) -> list[Passage]:
    """A rendered Markdown page (about, a musing) cut into passages; each passage's id names the
    section it starts in, its url that section's #fragment when the heading has an id."""
    units, sections = page_units(blocks_of(html))
    out = []
    for part in chunk(units):
        section = sections[part[0].section]
        key = section.key or intro
        wanted = f"{base_id}/{key}" if key else base_id
        fragment = f"#{section.anchor}" if section.anchor else ""
        out.append(Passage(ids(wanted), source, title, url + fragment, _join(part)))
    return out


def entry_passages(text: str, source: str, wanted: str, title: str, url: str, ids: _Ids) -> list[Passage]:
    """One entry (a project, a book, a talk, a Q&A): one passage, or more when it runs past 120 words."""
    units = [Unit(s, len(s.split()), "section" if k == 0 else "sentence", 0) for k, s in enumerate(sentences(text))]
    return [Passage(ids(wanted), source, title, url, _join(part)) for part in chunk(units)] if units else []


# --- the sources ------------------------------------------------------------------------------------


def _listing(values) -> str:
    return ", ".join(str(v) for v in values or [])


def project_text(p: dict) -> str:
    facts = [str(p["year"])] if p.get("year") else []
    facts += [_listing(p.get("languages"))] if p.get("languages") else []
    facts += [str(p["status"])] if p.get("status") else []
    head = f"{p['name']} ({', '.join(facts)})" if facts else p["name"]
    tags = f" Tags: {_listing(p['tags'])}." if p.get("tags") else ""
    return f"{head}: {p['description']}{tags}"


def book_text(b: dict) -> str:
    read = f", read in {b['year_read']}" if b.get("year_read") else ""
    line = f": {b['line']}" if b.get("line") else "."
    tags = f" Tags: {_listing(b['tags'])}." if b.get("tags") else ""
    return f"{b['title']} by {b['author']}{read}{line}{tags}"


def talk_text(t: dict) -> str:
    where = ", ".join(str(x) for x in (t["event"], t.get("city")) if x)
    summary = f" {t['summary']}" if t.get("summary") else ""
    tags = f" Tags: {_listing(t['tags'])}." if t.get("tags") else ""
    return f"{t['title']}: a talk at {where} on {t['date']}.{summary}{tags}"


def qa_seeds(path: Path) -> list[dict]:
    """The seeds of QA_KINDS from a seeds.jsonl ({"q": [wordings], "a": [answers], "kind": ...} a line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GroundingError(f"[grounding] qa: cannot read {path} ({exc.strerror})") from None
    seeds = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            seed = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GroundingError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        ok = isinstance(seed, dict) and all(
            isinstance(seed.get(k), list) and seed[k] and all(isinstance(x, str) and x.strip() for x in seed[k])
            for k in ("q", "a")
        )
        if not ok:
            raise GroundingError(
                f'{path}:{number}: a seed is {{"q": [question wordings], "a": [answers], "kind": ...}} '
                "with non-empty lists of strings"
            )
        if seed.get("kind") in QA_KINDS:
            seeds.append(seed)
    return seeds


def qa_text(seed: dict) -> str:
    """'Q: <first wording> A: <answer> A: <answer>': the answers that fit in MAX_WORDS (the first always)."""
    text = f"Q: {seed['q'][0].strip()} A: {seed['a'][0].strip()}"
    for answer in seed["a"][1:]:
        longer = f"{text} A: {answer.strip()}"
        if len(longer.split()) > MAX_WORDS:
            break
        text = longer
    return text


# The listing pages: each entry one passage, its id from this field, its text from this function.
LISTINGS = {"projects": ("id", project_text), "books": ("title", book_text), "talks": ("title", talk_text)}


def passages(content: SiteContent, config: Grounding) -> list[Passage]:
    """Every passage of the index, in its order: GROUNDING_SOURCES, then the content's own order
    (the pages list projects, books, talks and musings in the same order)."""
    ids, out = _Ids(), []
    for source in config.sources:
        if source == "about" and content.about_html:
            out += page_passages(content.about_html, "about", "about", PAGE_TITLES["about"], "about/", ids, "intro")
        elif source in LISTINGS:
            key, text_of = LISTINGS[source]
            for entry in getattr(content, source):
                wanted = f"{source}/{slug(str(entry[key]))}"
                out += entry_passages(text_of(entry), source, wanted, PAGE_TITLES[source], f"{source}/", ids)
        elif source == "musings":
            for m in content.musings:
                base = f"musings/{m['slug']}"
                out += page_passages(m["html"], source, base, f"Musing: {m['title']}", f"{base}/", ids)
        elif source == "qa" and config.qa is not None:
            for seed in qa_seeds(config.qa):
                out += entry_passages(qa_text(seed), source, f"qa/{slug(seed['q'][0], 48)}", "Q&A", "", ids)
    return out


# --- output -----------------------------------------------------------------------------------------


def vectors(items: list[Passage], embedder_gguf: Path) -> list[str]:
    """Each passage's text embedded by the core (run by wasmtime, `tabtwin.host`) on the GGUF the page
    downloads, where the same code embeds the visitor's question, as base64 of little-endian float16."""
    from tabtwin import host

    try:
        matrix = host.embed(embedder_gguf, [p.text for p in items])
    except host.HostError as exc:
        raise GroundingError(f"[grounding] embedder: {exc}") from None
    return [base64.b64encode(row.astype("<f2").tobytes()).decode("ascii") for row in matrix]


def answerability_model(path: Path) -> dict:
    """The fitted model `tabtwin grounding fit` wrote (the core checks its features and numbers)."""
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GroundingError(f"[grounding] answerability: cannot read {path} ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise GroundingError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(model, dict) or not isinstance(model.get("features"), list):
        raise GroundingError(f"{path}: not an answerability model (run `tabtwin grounding fit` to write it)")
    return model


def encode(items: list[Passage], embedder: tuple[Path, dict] | None = None, config: Grounding | None = None) -> bytes:
    """The index file. With `embedder` (its GGUF and its models.json entry) every passage carries its
    vector and the index names the embedder's sha256, which the core checks the downloaded file against.
    `config`'s answerability model, told_only, nearest and contrast go in too: the core decides and renders each
    turn with them."""
    rows = [asdict(p) for p in items]
    index: dict = {"format": FORMAT}
    if embedder is not None:
        gguf, entry = embedder
        for row, vector in zip(rows, vectors(items, gguf), strict=True):
            row["vector"] = vector
        index["embedder"] = {"name": entry["label"], "sha256": entry["sha256"], "dim": EMBEDDING_DIM}
    if config is not None and config.answerability is not None:
        index["answerability"] = answerability_model(config.answerability)
    if config is not None and config.told_only:
        index["told_only"] = True
    if config is not None and config.nearest:
        index["nearest"] = True
    if config is not None and config.contrast:
        index["contrast"] = True
    index["passages"] = rows
    return json.dumps(index, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def report(index: Index) -> str:
    """Every passage of the index: what a visitor's browser downloads (the index is public like the site)."""
    rows = [
        f"Grounding index {index.entry['file']}: {index.entry['passages']} passages, {index.entry['bytes']} bytes",
        f"(sha256 {index.entry['sha256']}).",
        "Published with the site: anyone can read it. Written by the build from models.toml [grounding];",
        "this list is not published.",
        "",
        "passages per source: " + (", ".join(f"{s} {n}" for s, n in index.counts().items()) or "none"),
        "",
        f"{'id':<48} {'url':<40} {'words':>5}  first words",
    ]
    for p in index.passages:
        first = " ".join(p.text.split()[:10])
        rows.append(f"{p.id:<48} {p.url or '-':<40} {p.words:>5}  {first}…")
    return "\n".join(rows) + "\n"


def write(
    config: Grounding | None, content: SiteContent, out_dir: Path, embedder: tuple[Path, dict] | None = None
) -> Index | None:
    """Write grounding.<hash>.json and the report into out_dir (removing the last build's), or remove
    both when there is no index. Returns what models.json says of it, or None. `embedder`: its GGUF and
    its staged models.json entry (the passages then carry vectors; models.json names the file)."""
    stale = list(out_dir.glob("grounding.*.json"))
    if config is None:
        for old in stale:
            old.unlink()
        (out_dir / REPORT_NAME).unlink(missing_ok=True)
        return None
    items = passages(content, config)
    data = encode(items, embedder, config)
    digest = hashlib.sha256(data).hexdigest()
    name = f"grounding.{digest[:12]}.json"
    for old in stale:
        if old.name != name:
            old.unlink()
    target = out_dir / name
    if not (target.is_file() and target.read_bytes() == data):
        write_bytes_atomic(target, data)
    entry = {
        "file": name,
        "sha256": digest,
        "bytes": len(data),
        "passages": len(items),
        "embedder": embedder[1] if embedder else None,
    }
    index = Index(entry, items, out_dir / REPORT_NAME)
    write_text_atomic(index.report, report(index))
    return index


def index_for(registry_path: Path, log=print, fitting: bool = False) -> tuple[bytes, Path | None] | None:
    """The index `python build.py` would publish for the site of `registry_path` (its models.toml, beside
    site/content), and the embedder GGUF it names: what `tabtwin eval` grounds questions with. None when
    the site has no [grounding]. `fitting`: for `tabtwin grounding fit`, without an answerability model."""
    from tabtwin.catalog.embedder import default_embedder_path
    from tabtwin.paths import sha256_file
    from tabtwin.site.content import load as load_content
    from tabtwin.site.registry import load_grounding

    config = load_grounding(registry_path, fitting)
    if config is None:
        return None
    if fitting:
        config = replace(config, answerability=None)
    content = load_content(Path(registry_path).parent / "site" / "content")
    embedder = None
    if config.embedder is not None:
        gguf = default_embedder_path(log) if config.embedder == "default" else Path(config.embedder)
        embedder = (gguf, {"label": EMBEDDER_LABEL, "sha256": sha256_file(gguf)})
    return encode(passages(content, config), embedder, config), embedder[0] if embedder else None

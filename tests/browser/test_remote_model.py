"""A model served from another origin (serve = "remote"), as a model hub serves it: the `resolve` URL
redirects to a download host. Two stand-in servers on loopback play the hub and its CDN (other origins
than the site, with CORS headers), a third serves the file without CORS headers. Chromium, with the
page's Content-Security-Policy on, must download, verify and run the model through the redirect, and
say in plain words when the host does not allow cross-origin downloads."""

from __future__ import annotations

import functools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tabtwin.paths import sha256_file

LOAD_TIMEOUT_MS = 300_000


class FileHost(BaseHTTPRequestHandler):
    """Serves one file at any path; `cors` adds Access-Control-Allow-Origin; `redirect_to` answers 302."""

    def __init__(self, *args, file: Path, cors: bool, redirect_to: str | None, seen: list, **kwargs):
        self.file, self.cors, self.redirect_to, self.seen = file, cors, redirect_to, seen
        super().__init__(*args, **kwargs)

    def _headers(self, status: int, extra: dict) -> None:
        self.send_response(status)
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", "*")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        if self.redirect_to:
            self._headers(302, {"Location": self.redirect_to + self.path.rsplit("/", 1)[-1], "Content-Length": "0"})
            return
        size = self.file.stat().st_size
        self._headers(200, {"Content-Type": "application/octet-stream", "Content-Length": str(size)})
        with open(self.file, "rb") as f:
            while chunk := f.read(1 << 20):
                self.wfile.write(chunk)

    def log_message(self, *args):
        pass


def start(file: Path, cors: bool, redirect_to: str | None = None):
    seen: list[str] = []
    handler = functools.partial(FileHost, file=file, cors=cors, redirect_to=redirect_to, seen=seen)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", seen


@pytest.fixture(scope="module")
def remote_site(tmp_path_factory, root, smollm_path):
    from tabtwin.site.build import build
    from tabtwin.site.serve import make_server

    cdn, cdn_origin, cdn_seen = start(smollm_path, cors=True)
    hub, hub_origin, hub_seen = start(smollm_path, cors=True, redirect_to=f"{cdn_origin}/files/")
    bare, bare_origin, _ = start(smollm_path, cors=False)
    # a second hub whose download host the registry does not list
    cdn2, cdn2_origin, cdn2_seen = start(smollm_path, cors=True)
    hub2, hub2_origin, _ = start(smollm_path, cors=True, redirect_to=f"{cdn2_origin}/files/")
    digest = sha256_file(smollm_path)
    work = tmp_path_factory.mktemp("remote")
    registry = work / "models.toml"
    registry.write_text(
        f'[[model]]\nid = "hubbed"\nlabel = "Hubbed"\nurl = "{hub_origin}/ada/twin/resolve/abc/smol.gguf"\n'
        f'serve = "remote"\nsha256 = "{digest}"\nhosts = ["{cdn_origin}"]\n'
        f'[[model]]\nid = "no-cors"\nlabel = "No CORS"\nurl = "{bare_origin}/smol.gguf"\nserve = "remote"\n'
        f'[[model]]\nid = "unlisted"\nlabel = "Unlisted CDN"\nurl = "{hub2_origin}/ada/twin/resolve/abc/other.gguf"\n'
        'serve = "remote"\n'
    )
    with pytest.MonkeyPatch.context() as env:  # the build's download of each url: a throwaway cache
        env.setenv("TABTWIN_CACHE", str(work / "cache"))
        build(root, work / "_site", registry, log=lambda *_: None)
    site = make_server(work / "_site", "127.0.0.1", 0)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield {
        "url": f"http://127.0.0.1:{site.server_address[1]}/",
        "site": work / "_site",
        "cdn": cdn_origin,
        "hub": hub_origin,
        "cdn_seen": cdn_seen,
        "hub_seen": hub_seen,
        "cdn2": cdn2_origin,
        "cdn2_seen": cdn2_seen,
    }
    for server in (site, cdn, hub, bare, cdn2, hub2):
        server.shutdown()
        server.server_close()


def pick(page, site_url, model_id):
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{model_id}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true'], body[data-error]", timeout=LOAD_TIMEOUT_MS)


def test_csp_lists_the_model_host_and_its_redirect_target(remote_site):
    import html

    chat = html.unescape((remote_site["site"] / "chat/index.html").read_text())
    connect = chat.split("connect-src", 1)[1].split(";", 1)[0]
    assert remote_site["hub"] in connect and remote_site["cdn"] in connect


def test_chromium_downloads_verifies_and_runs_a_model_through_a_cross_origin_redirect(page, remote_site):
    before = len(remote_site["cdn_seen"])
    pick(page, remote_site["url"], "hubbed")
    assert page.evaluate("document.body.dataset.error") is None, page.console_lines
    assert len(remote_site["cdn_seen"]) > before, "the bytes did not come from the redirect target"
    page.fill("#prompt", "What is the capital of France?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=LOAD_TIMEOUT_MS)
    assert "Paris" in page.inner_text(".turn.assistant >> nth=-1")


def test_a_host_without_cors_headers_gets_a_plain_message(page, remote_site):
    pick(page, remote_site["url"], "no-cors")
    error = page.evaluate("document.body.dataset.error") or ""
    assert "does not allow downloads from this site (CORS)" in error, (error, page.console_lines)


def test_a_redirect_to_a_host_the_csp_does_not_list_is_blocked(page, remote_site):
    """The CSP is enforced on the download: a redirect to an unlisted origin never reaches it."""
    seen = len(remote_site["cdn2_seen"])
    pick(page, remote_site["url"], "unlisted")
    assert page.evaluate("document.body.dataset.error"), page.console_lines
    assert len(remote_site["cdn2_seen"]) == seen
    assert remote_site["cdn2"] not in page.get_attribute("meta[http-equiv='Content-Security-Policy']", "content")

"""Local preview of a built site, with the MIME types browsers insist on (.wasm, .mjs)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class SiteHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".gguf": "application/octet-stream",
    }

    def log_message(self, format, *args):  # quiet: one line per request is noise for a preview
        pass


def make_server(site_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    handler = functools.partial(SiteHandler, directory=str(site_dir))
    return ThreadingHTTPServer((host, port), handler)


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    server = make_server(site_dir, host, port)
    print(f"serving {site_dir} at http://{host}:{server.server_address[1]}/ (chat: /chat/) — Ctrl+C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

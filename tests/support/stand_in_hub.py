"""A stand-in Hugging Face hub on 127.0.0.1 for the length of a `with` block: no network in tests.

It answers what huggingface_hub asks when it downloads (`hf_hub_download`, `snapshot_download`):
a revision's commit (`/api/models/REPO/revision/REV`), a commit's file list
(`/api/models/REPO/tree/COMMIT`) and each file (`HEAD`/`GET /REPO/resolve/REV/PATH`, ranges
included). It records every request, can cut a file's first transfer halfway (the client must
resume it with a range request) and can fail a file's first transfers outright (a fetch cut short).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


@dataclass
class Hub:
    # (repo, commit) -> {path: bytes}; (repo, tag or branch) -> commit
    commits: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)
    refs: dict[tuple[str, str], str] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Range header
    cut_once: set[str] = field(default_factory=set)  # file paths whose next GET stops halfway
    fail: dict[str, int] = field(default_factory=dict)  # file path -> how many more GETs answer 500
    url: str = ""

    def add(self, repo: str, files: dict[str, bytes], tag: str | None = None) -> str:
        """Publish `files` as a commit of `repo` (under `tag` too); returns the commit hash."""
        digest = hashlib.sha1(repo.encode())
        for name in sorted(files):
            digest.update(name.encode() + hashlib.sha1(files[name]).digest())
        commit = digest.hexdigest()
        self.commits[(repo, commit)] = dict(files)
        if tag:
            self.refs[(repo, tag)] = commit
        return commit

    def resolve(self, repo: str, revision: str) -> str | None:
        if (repo, revision) in self.commits:
            return revision
        return self.refs.get((repo, revision))

    def file_requests(self, name: str) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[0] == "GET" and r[1].endswith("/" + name) and "/resolve/" in r[1]]


REVISION = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)/revision/(?P<rev>[^/]+)")
TREE = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)")
RESOLVE = re.compile(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)")


def handler_for(hub: Hub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self.answer(head=True)

        def do_GET(self):
            self.answer(head=False)

        def answer(self, head: bool):
            path = unquote(urlparse(self.path).path)
            hub.requests.append((self.command, path, self.headers.get("Range")))  # list.append: thread-safe
            if m := REVISION.fullmatch(path):
                commit = hub.resolve(m["repo"], m["rev"])
                if commit is None:
                    return self.send_json(404, {"error": "Revision Not Found"}, {"X-Error-Code": "RevisionNotFound"})
                files = hub.commits[(m["repo"], commit)]
                return self.send_json(
                    200, {"id": m["repo"], "sha": commit, "siblings": [{"rfilename": n} for n in files]}
                )
            if m := TREE.fullmatch(path):
                commit = hub.resolve(m["repo"], m["rev"])
                if commit is None:
                    return self.send_json(404, {"error": "Revision Not Found"}, {"X-Error-Code": "RevisionNotFound"})
                files = hub.commits[(m["repo"], commit)]
                entries = [
                    {"type": "file", "path": n, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                    for n, b in files.items()
                ]
                return self.send_json(200, entries)
            if m := RESOLVE.fullmatch(path):
                commit = hub.resolve(m["repo"], m["rev"])
                data = hub.commits.get((m["repo"], commit), {}).get(m["path"]) if commit else None
                if data is None:
                    return self.send_json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
                return self.send_file(data, commit, m["path"], head)
            return self.send_json(404, {"error": f"no such endpoint {path}"})

        def send_json(self, status: int, body, headers: dict | None = None):
            raw = json.dumps(body).encode()
            self.send_response(status)
            for k, v in {
                "Content-Type": "application/json",
                "Content-Length": str(len(raw)),
                **(headers or {}),
            }.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(raw)

        def send_file(self, data: bytes, commit: str, name: str, head: bool):
            if not head and hub.fail.get(name, 0) > 0:
                hub.fail[name] -= 1
                return self.send_json(500, {"error": "the stand-in fails this file"})
            start = 0
            if not head and (ranged := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")):
                start = int(ranged[1])
            body = data[start:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Repo-Commit", commit)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Accept-Ranges", "bytes")
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if head:
                return
            if name in hub.cut_once and not start:
                hub.cut_once.discard(name)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def stand_in_hub(monkeypatch=None):
    """Yield a `Hub` served on loopback; with `monkeypatch`, HF_ENDPOINT points tabtwin at it."""
    hub = Hub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(hub))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    if monkeypatch is not None:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()

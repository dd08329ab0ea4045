"""A tiny random llama big enough (~14 MB) to be cut into shards and to weigh on a budget."""

import pytest


@pytest.fixture(scope="session")
def sharded_model(tmp_path_factory):
    from tiny_gguf import write_tiny_llama

    return write_tiny_llama(tmp_path_factory.mktemp("model") / "small.gguf", hidden=256, layers=6)

"""The tables that exist in both Rust and Python agree."""

import re

from tabtwin import keys
from tabtwin.gguf.read import SUPPORTED_ARCHITECTURES


def rust_constants(text: str) -> dict[str, str]:
    return dict(re.findall(r'pub const (\w+): &str = "([^"]+)";', text))


def test_tabtwin_keys_match_rust(root):
    rust = rust_constants((root / "wasm/core/src/keys.rs").read_text())
    assert rust == keys.ALL


def test_supported_architectures_match_rust(root):
    text = (root / "wasm/core/src/arch.rs").read_text()
    listed = re.search(r"SUPPORTED: &\[&str\] = &\[([^\]]*)\]", text).group(1)
    assert tuple(re.findall(r'"([^"]+)"', listed)) == SUPPORTED_ARCHITECTURES

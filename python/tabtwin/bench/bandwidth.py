"""The memory-bandwidth bound of decoding: a token reads (about) every weight matrix once, so one
thread decodes at most `bandwidth / bytes of weights per token` tokens a second. The bandwidth is
measured in the same browser (harness/bandwidth.js: a hand-assembled wasm module summing a large
buffer with v128 loads); the bytes come from the GGUF's tensor table."""

from __future__ import annotations

from pathlib import Path

EMBEDDINGS = "token_embd.weight"
OUTPUT = "output.weight"


def weight_bytes_per_token(tensor_bytes: dict[str, int]) -> int:
    """Bytes of weights one decoded token reads: every tensor but the token embeddings (one row is
    looked up), plus the embeddings when they double as the output projection (no output.weight)."""
    total = sum(n for name, n in tensor_bytes.items() if name != EMBEDDINGS)
    if OUTPUT not in tensor_bytes:
        total += tensor_bytes.get(EMBEDDINGS, 0)
    return total


def tensor_bytes(path: Path) -> dict[str, int]:
    from tabtwin.gguf.read import open_gguf

    return {t.name: int(t.n_bytes) for t in open_gguf(path).tensors}


def bound_tok_s(bandwidth_gb_s: float | None, bytes_per_token: int) -> float | None:
    """Tokens a second one thread could decode if it did nothing but read the weights."""
    if not bandwidth_gb_s or not bytes_per_token:
        return None
    return bandwidth_gb_s * 1e9 / bytes_per_token

"""Decode speed outside the browser: the core through tabtwin._core, and llama-cpp-python on the same
GGUF when it is installed (a native reference runtime). Timings are measurements, never assertions."""

from __future__ import annotations

import time
from pathlib import Path

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def native(path: Path, max_tokens: int) -> dict:
    from tabtwin._core import Chat

    started = time.perf_counter()
    chat = Chat.from_path(path)
    load_s = time.perf_counter() - started
    stamps = []
    chat.generate(PROMPT, max_tokens=max_tokens, on_text=lambda _: stamps.append(time.perf_counter()) or True)
    return _rates(load_s, stamps, chat.prefill_tokens())


def peer(path: Path, max_tokens: int, threads: int) -> dict | None:
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    started = time.perf_counter()
    llm = Llama(model_path=str(path), n_threads=threads, n_ctx=2048, verbose=False)
    load_s = time.perf_counter() - started
    stamps = []
    for _ in llm.create_chat_completion(
        [{"role": "user", "content": PROMPT}], max_tokens=max_tokens, temperature=0.0, stream=True
    ):
        stamps.append(time.perf_counter())
    return _rates(load_s, stamps, None)


def _rates(load_s: float, stamps: list[float], prompt_tokens) -> dict:
    decode = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else None
    return {
        "load_s": round(load_s, 3),
        "pieces": len(stamps),
        "prompt_tokens": prompt_tokens,
        "decode_tok_s": round(decode, 2) if decode else None,
    }

"""The core, run by wasmtime: the one reader of model files on the site build path.

`python build.py` loads no native code of ours (it runs where only requirements-site.txt is
installed), so it runs the core compiled for wasm (`wasm/host`, committed here as
`tabtwin_host.wasm` by scripts/build-host-wasm.sh, held to its sources by scripts/check-wasm.sh)
instead of `tabtwin._core`. Every rule stays in the core; this module moves bytes and JSON and turns
the core's error sentence into a `HostError` naming the file.

    facts(path)          -> dict: what the header says and what the core can do with the file
    embed(path, texts)   -> float32 [len(texts), dim]: the sentence embedder, unit rows
    architectures()      -> {"chat": [...], "runs": [...]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import wasmtime

from tabtwin.errors import TabtwinError

WASM = Path(__file__).with_name("tabtwin_host.wasm")


class HostError(TabtwinError):
    """A file the core refuses, with the core's sentence."""


@cache
def _module() -> tuple[wasmtime.Engine, wasmtime.Module]:
    config = wasmtime.Config()
    try:
        config.cache = True  # compiling the module takes seconds; wasmtime keeps the machine code
    except wasmtime.WasmtimeError:  # no writable cache folder: compile in each process
        pass
    if _address_space_capped():
        # 4 GiB of address space reserved up front lets wasmtime drop bounds checks (~1.4x faster);
        # under a cap (the tests of hostile files run with one) reserve as the memory grows instead.
        config.memory_reservation = 1 << 26
        config.memory_guard_size = 1 << 16
        config.memory_may_move = True
    engine = wasmtime.Engine(config)
    if not WASM.is_file():
        raise HostError(f"{WASM} is missing: run scripts/build-host-wasm.sh (or reinstall tabtwin)")
    return engine, wasmtime.Module.from_file(engine, str(WASM))


def _address_space_capped() -> bool:
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return False
    return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY


def _never_called(module: str, name: str) -> Callable:
    def trap(*_args):
        raise wasmtime.Trap(f"the core called {module}.{name}, which the host does not provide")

    return trap


def _random_bytes(caller: wasmtime.Caller, ptr: int, length: int) -> None:
    """crypto.getRandomValues, as the browser gives it: the seeds of the tokenizer's hash maps."""
    caller["memory"].write(caller, os.urandom(length), ptr)


class _Core:
    """One instance: a fresh memory for each call, so a model's bytes are not kept after it."""

    def __init__(self):
        engine, module = _module()
        self.store = wasmtime.Store(engine)
        linker = wasmtime.Linker(engine)
        # The tokenizers crate links getrandom's browser backend (its hash maps are seeded) and with
        # it wasm-bindgen's imports: the randomness is given; the rest is never called.
        for imp in module.imports:
            if imp.name.startswith("__wbg_getRandomValues_"):
                linker.define_func(imp.module, imp.name, imp.type, _random_bytes, access_caller=True)
            else:
                linker.define_func(imp.module, imp.name, imp.type, _never_called(imp.module, imp.name))
        self.exports = linker.instantiate(self.store, module).exports(self.store)
        self.memory = self.exports["memory"]

    def call(self, name: str, *args: int) -> tuple[int, bytes]:
        status = self.exports[name](self.store, *args)
        start = self.exports["reply_ptr"](self.store)
        return status, bytes(self.memory.read(self.store, start, start + self.exports["reply_len"](self.store)))

    def put(self, data: bytes) -> tuple[int, int]:
        ptr = self.exports["alloc"](self.store, len(data))
        self.memory.write(self.store, data, ptr)
        return ptr, len(data)

    def put_file(self, path: Path) -> tuple[int, int]:
        """The file's bytes straight into the core's memory (a model is not held twice)."""
        size = path.stat().st_size
        ptr = self.exports["alloc"](self.store, size)
        view = memoryview(self.memory.get_buffer_ptr(self.store, size, ptr)).cast("B")
        with open(path, "rb") as f:
            got = f.readinto(view)
        if got != size:
            raise HostError(f"{path}: changed while it was read ({got} of {size} bytes)")
        return ptr, size


def _run(path: Path, name: str, *extra: bytes) -> bytes:
    core = _Core()
    args = [*core.put_file(path)]
    for data in extra:
        args += core.put(data)
    try:
        status, reply = core.call(name, *args)
    except wasmtime.Trap as exc:  # a panic in the core: a bug, but still said with the file named
        raise HostError(f"{path}: the core stopped on this file ({exc.message.splitlines()[0]})") from None
    if status != 0:
        raise HostError(f"{path}: {reply.decode('utf-8', 'replace')}")
    return reply


def _readable(path: Path | str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise HostError(f"{path}: no such file")
    return path


def facts(path: Path | str) -> dict:
    """The core's facts of a GGUF file (`wasm/core/src/facts.rs`): architecture, kind ("chat",
    "speech", "embedder"), name, parameters, tensors, quantization [[type, count]], file_type,
    context_length, vocab_size, tokenizer, tokenizer_pre, chat_template, tabtwin {key: value}, apps.
    A file the core could not run raises HostError with the core's sentence."""
    return json.loads(_run(_readable(path), "inspect"))


def embed(path: Path | str, texts: Sequence[str]) -> np.ndarray:
    """Each text embedded by the sentence embedder GGUF at `path`, as the page's core embeds a
    question: float32 [len(texts), dim], unit rows."""
    reply = _run(_readable(path), "embed", json.dumps(list(texts)).encode("utf-8"))
    vectors = np.frombuffer(reply, dtype="<f4")
    return vectors.reshape(len(texts), -1) if texts else vectors.reshape(0, 0)


@cache
def architectures() -> dict[str, list[str]]:
    """{"chat": the chat architectures the core runs, "runs": every architecture it runs}."""
    status, reply = _Core().call("architectures")
    assert status == 0, reply
    return json.loads(reply)

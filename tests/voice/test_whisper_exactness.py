"""The core's Whisper against transformers' WhisperForConditionalGeneration on the same weights (the
GGUF's, dequantized to f32), greedy in the full 30 s window: the same tokens, clip for clip."""

import json

import numpy as np
import pytest

from tabtwin.voice import testset

pytestmark = [pytest.mark.torch, pytest.mark.models]


@pytest.fixture(scope="module")
def transcriber():
    from tabtwin._core import Transcriber
    from tabtwin.catalog.whisper import ensure_default

    return Transcriber.from_path(ensure_default(log=lambda *_: None))


@pytest.fixture(scope="module")
def reference():
    import torch
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    from tabtwin.catalog.whisper import ensure_default

    reader = GGUFReader(ensure_default(log=lambda *_: None))
    field = reader.fields["whisper.config"]
    config = json.loads(bytes(field.parts[field.data[0]]).decode())
    hf = WhisperConfig(
        **{k: config[k] for k in ("vocab_size", "num_mel_bins", "d_model", "max_source_positions")},
        **{k: config[k] for k in ("encoder_layers", "decoder_layers", "max_target_positions")},
        encoder_attention_heads=config["encoder_attention_heads"],
        decoder_attention_heads=config["decoder_attention_heads"],
        encoder_ffn_dim=4 * config["d_model"],
        decoder_ffn_dim=4 * config["d_model"],
    )
    model = WhisperForConditionalGeneration(hf).eval()
    state = {
        t.name: torch.tensor(
            np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape([int(d) for d in t.shape[::-1]])
        )
        for t in reader.tensors
    }
    half = config["d_model"] // 2  # the sinusoids the file leaves out (OpenAI's `sinusoids`)
    inverse = torch.exp(-np.log(10000) / (half - 1) * torch.arange(half))
    angles = torch.arange(config["max_source_positions"])[:, None] * inverse[None, :]
    state["model.encoder.embed_positions.weight"] = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    state["proj_out.weight"] = state["model.decoder.embed_tokens.weight"]
    model.load_state_dict(state, strict=True)
    return model, config


def greedy(model, config, features) -> list[int]:
    """transformers' forward, decoded as the core decodes: suppressed tokens, text tokens only."""
    import torch

    start, no_timestamps = config["decoder_start_token_id"], config["no_timestamps_token_id"]
    tokens, past = [start, no_timestamps], None
    with torch.no_grad():
        audio = model.model.encoder(torch.tensor(features)[None]).last_hidden_state
        for step in range(config["max_target_positions"] // 2):
            ids = torch.tensor([tokens if past is None else tokens[-1:]])
            out = model(encoder_outputs=(audio,), decoder_input_ids=ids, past_key_values=past, use_cache=True)
            past, logits = out.past_key_values, out.logits[0, -1].clone()
            logits[config["suppress_tokens"]] = -float("inf")
            if step == 0:
                logits[config["begin_suppress_tokens"]] = -float("inf")
            logits[no_timestamps + 1 :] = -float("inf")
            token = int(logits.argmax())
            if token == config["eos_token_id"]:
                break
            tokens.append(token)
    return tokens[2:]


def test_full_window_tokens_equal_transformers_on_the_same_weights(transcriber, reference):
    model, config = reference
    # one clip per length, in a voice with noise and one without
    clips = [c for c in testset.build() if c.name.split("-", 1)[1] in ("p0-v0", "p0-v1")]
    for clip in clips:
        audio = clip.audio
        features = np.array(transcriber.log_mel(audio.tolist()), dtype=np.float32).reshape(config["num_mel_bins"], -1)
        ours = transcriber.transcribe(audio.tolist(), "full")["tokens"]
        assert ours == greedy(model, config, features), clip.name

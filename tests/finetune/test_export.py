"""Export: the merged twin is one self-describing GGUF that the native core loads, with the
trained system prompt, and whose greedy output equals transformers' on the merged model;
the numpy merge equals peft's torch merge; `tabtwin merge` rebuilds the same file."""

from __future__ import annotations

import filecmp
import json

import numpy as np
import pytest
import torch
from finetune_helpers import SYSTEM_PROMPT, write_config, write_persona

from tabtwin import cli, keys
from tabtwin._core import Chat
from tabtwin.finetune.base import context_length, hf_dir, load_tokenizer, resolve_base
from tabtwin.finetune.config import load
from tabtwin.finetune.data import build
from tabtwin.finetune.export import export
from tabtwin.finetune.train import train
from tabtwin.gguf.read import describe, open_gguf
from tabtwin.gguf.store import resolve_quantization
from tabtwin.paths import sha256_file

QUESTIONS = ["Where do you live?", "Show me your Rust projects"]


def quiet(*_):
    pass


def fresh(cfg, tmp_path, name: str, quantization: str = "f32"):
    """The shared trained run's config, exporting to a file of this test's own."""
    cfg = load(cfg.path)
    cfg.export.output = tmp_path / f"{name}.gguf"
    cfg.export.quantization = quantization
    return cfg


def merged_model(cfg):
    """peft's merge of the adapter the exported twin was merged from: the portable (float16) one."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    portable = cfg.export_path.with_name(cfg.export_path.stem + ".adapter")
    model = AutoModelForCausalLM.from_pretrained(hf_dir(resolve_base(cfg.train.base)), dtype=torch.float32)
    return PeftModel.from_pretrained(model, portable).merge_and_unload().eval()


def transformers_greedy(model, tokenizer, question: str, max_tokens: int) -> str:
    text = tokenizer.apply_chat_template(
        [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}],
        tokenize=False,
        add_generation_prompt=True,
    )
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    out = model.generate(
        torch.tensor([ids]),
        attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        max_new_tokens=max_tokens,
        do_sample=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        repetition_penalty=1.0,
    )
    new = out[0, len(ids) :].tolist()
    if new and new[-1] == tokenizer.eos_token_id:
        new = new[:-1]
    return tokenizer.decode(new, skip_special_tokens=False)


def core_greedy(path, question: str, max_tokens: int) -> str:
    chat = Chat.from_path(path)
    chat.generate(question, max_tokens=max_tokens)
    return chat.last_reply_raw()


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    """The shared run exported once as F32 (+ Modelfile), verified; reading a GGUF header with a
    50k-token vocabulary costs gguf-py seconds, so the tests below share this one."""
    cfg = fresh(trained, tmp_path_factory.mktemp("exported"), "twin")
    cfg.export.ollama = True
    return cfg, export(cfg, log=quiet)


def test_export_round_trip_in_the_core(exported):
    cfg, result = exported
    out = cfg.export_path
    assert result["gguf"] == str(out)
    v = result["verification"]
    assert v["top1_agreement"] == 1.0 and v["max_abs_diff_over_max_logit"] < 1e-4 and v["positions_compared"] >= 6

    info = describe(out)
    assert info["quantization"] == {"F32": info["tensors"]}
    assert set(info["tabtwin"]) == set(keys.ALL.values()) - {keys.REFUSALS}  # no [data] dont_know here
    assert info["tabtwin"][keys.SYSTEM_PROMPT] == SYSTEM_PROMPT
    assert info["name"] == info["tabtwin"][keys.PERSONA] == "Ada Example"
    assert json.loads(info["tabtwin"][keys.TOOLS]) == ["projects", "books", "musings", "talks"]
    provenance = json.loads(info["tabtwin"][keys.PROVENANCE])
    assert provenance["adapter_sha256"] == sha256_file(cfg.adapter_dir / "adapter_model.safetensors")
    assert provenance["base_sha256"] == sha256_file(resolve_base(cfg.train.base).gguf)
    assert provenance["dataset_sha256"] == json.loads((cfg.data_dir / "manifest.json").read_text())["dataset_sha256"]
    assert provenance["hyperparameters"]["r"] == 8
    chat = Chat.from_path(out)
    base_chat = Chat.from_path(resolve_base(cfg.train.base).gguf)  # same tokenizer and chat template
    base_chat.set_system_prompt(SYSTEM_PROMPT)
    assert chat.render([("user", "hi")]) == base_chat.render([("user", "hi")])
    assert chat.encode("Lisbon, Rust <|im_end|>") == base_chat.encode("Lisbon, Rust <|im_end|>")
    assert chat.system_prompt == SYSTEM_PROMPT
    assert chat.info()["persona"] == "Ada Example"
    assert chat.render([("user", "hi")]).startswith(f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>")

    model = merged_model(cfg)
    tokenizer = load_tokenizer(resolve_base(cfg.train.base), quiet)
    for question in QUESTIONS:
        assert core_greedy(out, question, 20) == transformers_greedy(model, tokenizer, question, 20), question

    portable = out.with_name("twin.adapter")
    assert json.loads((portable / "tabtwin.json").read_text())["metadata"][keys.SYSTEM_PROMPT] == SYSTEM_PROMPT


def test_numpy_merge_equals_the_torch_merge(exported):
    """The exported tensors (numpy merge on the GGUF) equal peft's merge in torch, converted the way
    convert.write_gguf converts (llama.cpp names, q/k row permutation)."""
    from tabtwin.gguf.convert import gguf_name, permute_for_llama

    cfg, _ = exported
    merged = merged_model(cfg)
    heads = {"attn_q": merged.config.num_attention_heads, "attn_k": merged.config.num_key_value_heads}

    def as_gguf(model) -> dict[str, np.ndarray]:
        out = {}
        for hf, tensor in model.state_dict().items():
            if hf == "lm_head.weight":  # tied to token_embd
                continue
            name, w = gguf_name(hf), tensor.detach().numpy()
            kind = name.split(".")[2] if name.startswith("blk.") else ""
            out[name] = permute_for_llama(w, heads[kind]) if kind in heads else w
        return out

    from transformers import AutoModelForCausalLM

    base = as_gguf(AutoModelForCausalLM.from_pretrained(hf_dir(resolve_base(cfg.train.base)), dtype=torch.float32))
    theirs = as_gguf(merged)
    ours = {t.name: np.array(t.data) for t in open_gguf(cfg.export_path).tensors}
    assert ours.keys() == theirs.keys() == base.keys()
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-6, err_msg=name)
    changed = [name for name in ours if not np.array_equal(ours[name], base[name])]
    assert len(changed) == 14  # 2 layers x 7 projections carry a LoRA delta; the rest is the base, untouched


def test_tabtwin_merge_rebuilds_the_twin_from_base_and_portable_adapter(exported, tmp_path, smollm_path, capsys):
    cfg, result = exported
    base = resolve_base(cfg.train.base).gguf
    portable = cfg.export_path.with_name("twin.adapter")
    assert result["adapter"] == str(portable)
    rebuilt = tmp_path / "rebuilt.gguf"
    assert cli.main(["merge", str(base), str(portable), str(rebuilt), "--quantization", "f32"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert filecmp.cmp(cfg.export_path, rebuilt, shallow=False), "merge must rebuild the exported twin exactly"
    assert cli.main(["merge", str(smollm_path), str(portable), str(tmp_path / "wrong.gguf")]) == 2
    assert "is not the base" in capsys.readouterr().err
    assert not (tmp_path / "wrong.gguf").exists()


def test_auto_quantization_stores_every_matrix_q8_0(trained, tmp_path):
    cfg = fresh(trained, tmp_path, "auto", quantization="auto")
    result = export(cfg, log=quiet)
    assert result["quantization"] == "q8_0"
    types = {t.name: t.tensor_type.name for t in open_gguf(cfg.export_path).tensors}
    assert types["blk.0.attn_q.weight"] == "Q8_0" and types["token_embd.weight"] == "Q8_0"
    assert types["blk.0.ffn_down.weight"] == "Q8_0" and types["blk.1.ffn_up.weight"] == "Q8_0"
    assert types["blk.0.attn_norm.weight"] == "F32"
    assert result["verification"]["top1_agreement"] >= 0.5  # reported; 8-bit weights may flip near-ties
    assert Chat.from_path(cfg.export_path).system_prompt == SYSTEM_PROMPT


def test_ollama_modelfile(exported):
    cfg, result = exported
    modelfile = cfg.export_path.with_name("twin.Modelfile")
    text = modelfile.read_text()
    assert result["modelfile"] == str(modelfile)
    assert text.startswith("FROM ./twin.gguf\n") and f'SYSTEM """{SYSTEM_PROMPT}"""' in text
    assert 'PARAMETER stop "<|im_end|>"' in text


def test_qwen2_twin_from_a_hugging_face_directory(tmp_path, tiny_base, smollm_path):
    """The other architecture and the other kind of base: a tiny qwen2 (biases, untied head, no q/k
    permutation) saved as a Hugging Face directory; its tokenizer and template come from a GGUF."""
    from tiny_hf import tiny_config
    from transformers import AutoTokenizer, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(hf_dir(resolve_base(str(tiny_base))))
    torch.manual_seed(0)
    config = tiny_config(
        "qwen2", len(tokenizer), max_position_embeddings=512, rms_norm_eps=1e-6, initializer_range=0.05
    )
    model = Qwen2ForCausalLM(config).float()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.1)
    base_dir = tmp_path / "tiny-qwen2"
    model.save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)

    persona = write_persona(tmp_path / "persona")
    cfg = load(
        write_config(
            tmp_path,
            base_dir,
            persona,
            **{
                "train.epochs": "1",
                "export.tokenizer_gguf": json.dumps(str(smollm_path)),
                "export.quantization": '"f32"',
            },
        )
    )
    base = resolve_base(cfg.train.base)
    assert base.hf_dir == base_dir and base.gguf is None
    build(cfg, load_tokenizer(base, quiet), context_length(base))
    train(cfg, log=quiet, progress=False)
    result = export(cfg, log=quiet)
    assert result["verification"]["top1_agreement"] == 1.0
    assert result["verification"]["max_abs_diff_over_max_logit"] < 1e-4
    assert Chat.from_path(cfg.export_path).info()["architecture"] == "qwen2"
    merged = merged_model(cfg)
    for question in QUESTIONS:
        assert core_greedy(cfg.export_path, question, 20) == transformers_greedy(merged, tokenizer, question, 20)
    assert resolve_quantization("auto") == "q8_0"  # every architecture keeps its answers in all-Q8_0


def test_site_build_composes_a_twin_from_base_and_adapter(exported, tmp_path, monkeypatch):
    """models.toml `base` + `adapter`: the build merges once (into the cache) and serves exactly
    the exported twin; the next build finds it and does no model work."""
    from pathlib import Path

    from tabtwin.site.build import build as build_site
    from tabtwin.site.registry import RegistryError
    from tabtwin.site.registry import load as load_registry

    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    cfg, result = exported
    root = Path(__file__).resolve().parents[2]
    base = resolve_base(cfg.train.base).gguf
    reg = tmp_path / "models.toml"
    entry = (
        f'[[model]]\nid = "twin"\nlabel = "Twin"\nbase = "{base}"\nadapter = "{result["adapter"]}"\n'
        'quantization = "f32"\n'
    )
    reg.write_text(entry)
    first = build_site(root, tmp_path / "_site", reg, log=quiet)
    model = json.loads((tmp_path / "_site" / "models.json").read_text())["models"][0]
    assert model["sha256"] == sha256_file(cfg.export_path), "the composed twin must be the exported one"
    assert keys.SYSTEM_PROMPT in model["tabtwin"] and model["architecture"] == "llama"
    assert model["apps"] is True  # read from the twin's tabtwin.tools by the core
    assert first.model_work == ["twin"]
    assert build_site(root, tmp_path / "_site", reg, log=quiet).model_work == []

    for text, line, words in [
        (entry.replace(f'adapter = "{result["adapter"]}"\n', ""), 4, ["base and adapter go together"]),
        (entry.replace(result["adapter"], str(tmp_path)), 5, ["not an adapter folder"]),
        (entry.replace('"f32"', '"q3_k"'), 6, ["quantization", "q8_0"]),
    ]:
        reg.write_text(text)
        with pytest.raises(RegistryError) as err:
            load_registry(reg)
        assert f"{reg}:{line}:" in str(err.value) and all(w in str(err.value) for w in words), str(err.value)


class RecordingHub:
    """Stands in for huggingface_hub.HfApi (no network in tests): records each call's arguments."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))
        return f"https://huggingface.co/{repo_id}"

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def create_commit(self, repo_id, operations, **kwargs):
        self.calls.append(("create_commit", repo_id, {"operations": list(operations), **kwargs}))

        class Info:
            oid, commit_url = "0" * 40, f"https://huggingface.co/{repo_id}/commit/0"

        return Info()


def test_publish_model_uploads_twin_adapter_and_card_in_one_commit(exported):
    from huggingface_hub import CommitOperationAdd

    from tabtwin.finetune.publish import publish

    cfg, _ = exported
    hub = RecordingHub()
    result = publish(cfg.export_path, "ada/twin", revision="v1", private=True, api=hub, log=quiet)
    names = [c[0] for c in hub.calls]
    assert names == ["create_repo", "create_branch", "create_commit"]
    assert hub.calls[0][2] == {"private": True, "exist_ok": True, "repo_type": "model"}
    commit = hub.calls[2][2]
    assert commit["revision"] == "v1" and commit["repo_type"] == "model"
    ops = {op.path_in_repo: op for op in commit["operations"]}
    assert all(isinstance(op, CommitOperationAdd) for op in ops.values())
    assert {
        "twin.gguf",
        "adapter/adapter_model.safetensors",
        "adapter/adapter_config.json",
        "adapter/tabtwin.json",
        "twin.Modelfile",
        "twin.export.json",
        "README.md",
    } <= set(ops)
    assert ops["twin.gguf"].path_or_fileobj == str(cfg.export_path)
    card = ops["README.md"].path_or_fileobj.decode()
    assert SYSTEM_PROMPT in card and "Ada Example" in card and "ada/twin" in card
    assert result["files"] == list(ops)
    # the site entry it prints is pinned to the uploaded commit and file, and the registry accepts it
    from tabtwin.paths import sha256_file
    from tabtwin.site.registry import load as load_registry

    registry = cfg.export_path.parent / "remote.toml"
    registry.write_text(result["models_toml"])
    (entry,) = load_registry(registry)
    assert entry.url == f"https://huggingface.co/ada/twin/resolve/{'0' * 40}/twin.gguf"
    assert entry.serve == "remote" and entry.sha256 == sha256_file(cfg.export_path)


def test_publish_model_refuses_what_it_cannot_upload(exported, tmp_path, capsys):
    cfg, _ = exported
    lonely = tmp_path / "lonely.gguf"
    lonely.write_bytes(cfg.export_path.read_bytes()[:64])
    assert cli.main(["publish-model", str(lonely), "--hf", "ada/twin"]) == 2
    assert "no portable adapter" in capsys.readouterr().err
    assert cli.main(["publish-model", str(cfg.export_path), "--hf", "no-owner"]) == 2
    assert "owner/name" in capsys.readouterr().err
    assert cli.main(["publish-model", str(tmp_path / "missing.gguf"), "--hf", "ada/twin"]) == 2
    assert "no exported twin" in capsys.readouterr().err

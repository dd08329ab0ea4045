"""`tabtwin data | train | export | merge | eval`: the fine-tune runbook's commands (see finetune/README.md).

Each verb is a thin shell over a library function (tabtwin.data, train, export,
evaluate) that the tests call directly. torch, transformers and peft are imported
only by the verbs that need them (`pip install -e "python[train]"`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tabtwin.errors import TabtwinError


def _config(args):
    from tabtwin.finetune.config import load

    return load(args.config)


def _tokenizer(cfg):
    from tabtwin.finetune.base import context_length, load_tokenizer, resolve_base

    base = resolve_base(cfg.train.base)
    return load_tokenizer(base), context_length(base)


def cmd_data_build(args) -> int:
    from tabtwin.finetune.data import build
    from tabtwin.finetune.data.stats import format_imported

    cfg = _config(args)
    tokenizer, context = _tokenizer(cfg)
    grounding = _grounding(cfg) if cfg.data.grounded or cfg.data.unanswerable else None
    manifest = build(cfg, tokenizer, context, grounding=grounding)
    print(f"read {cfg.data.persona}: " + ", ".join(f"{k} ({v})" for k, v in manifest["files"].items()))
    for line in format_imported(manifest["imported"])[1:]:  # what was kept of imported/, and why not the rest
        print(line)
    for split in ("train", "holdout"):
        total = sum(manifest[split].values())
        print(f"{split:<8}{total:>5} examples  " + ", ".join(f"{k} {v}" for k, v in manifest[split].items()))
    print(f"longest example {manifest['max_tokens']} tokens (max_seq_len {manifest['max_seq_len']})")
    print(
        f"wrote {cfg.data_dir}/{{train.jsonl, holdout.jsonl, manifest.json}} "
        f"(dataset sha256 {manifest['dataset_sha256'][:16]}...)"
    )
    return 0


def cmd_data_stats(args) -> int:
    from tabtwin.finetune.data import format_stats, stats

    cfg = _config(args)
    tokenizer, context = _tokenizer(cfg)
    result = stats(cfg, tokenizer, context)
    print(json.dumps(result, indent=2) if args.json else format_stats(result))
    return 0


def cmd_train(args) -> int:
    from tabtwin.finetune.train import train

    cfg = _config(args)
    if args.init_adapter is not None:
        cfg.train.init_adapter = args.init_adapter.expanduser().resolve()
    try:
        train(cfg, resume=args.resume, restart=args.restart, stop_after=args.stop_after, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; rerun with --resume to continue from the last checkpoint in "
            f"{cfg.train.output / 'checkpoint'}",
            file=sys.stderr,
        )
        return 130
    return 0


def cmd_export(args) -> int:
    from tabtwin.finetune.export import export

    cfg = _config(args)
    if args.ollama:
        cfg.export.ollama = True
    if args.quantization:
        cfg.export.quantization = args.quantization
    export(cfg, verify=not args.no_verify)
    return 0


def cmd_merge(args) -> int:
    from tabtwin.gguf.merge import merge

    merge(
        args.base,
        args.adapter,
        args.out,
        quantization=args.quantization,
        check_base=not args.no_check_base,
        tie_embeddings=args.tie_embeddings,
    )
    return 0


def _grounding(cfg):
    """The core's Grounding over the index of the site [grounding] site names, as its page loads it
    (the passages, and the embedder that matches questions by meaning), or None."""
    if cfg.grounding.site is None:
        return None
    from tabtwin._core import Grounding
    from tabtwin.site.grounding import index_for

    built = index_for(cfg.grounding.site)
    if built is None:
        raise TabtwinError(f"{cfg.path}: [grounding] site {cfg.grounding.site} has no [grounding] table")
    data, embedder = built
    grounding = Grounding(data)
    if embedder is not None:
        grounding.attach_embedder(embedder)
    return grounding


def cmd_eval(args) -> int:
    from tabtwin.finetune.evaluate.run import evaluate

    cfg = _config(args)
    grounding = None if args.no_grounding else _grounding(cfg)
    evaluate(
        cfg,
        gguf=args.gguf,
        limit=args.limit,
        compare_base=args.base,
        grounding=grounding,
        no_base=args.no_base,
        jobs=args.jobs,
        reuse=not args.fresh,
        methods=tuple(args.method) or args.methods,
        sealed=args.sealed,
    )
    return 0


def cmd_publish_model(args) -> int:
    from tabtwin.finetune.config import load
    from tabtwin.finetune.publish import publish

    gguf = args.target if args.target.suffix == ".gguf" else load(args.target).export_path
    publish(gguf, args.hf, revision=args.revision, private=args.private, token=args.token)
    return 0


def register(sub) -> None:
    """Add the fine-tune subcommands to the `tabtwin` parser, in the order `--help` lists them."""
    _register_data(sub)
    _register_train(sub)
    _register_export_and_merge(sub)
    _register_publish_model(sub)
    _register_eval(sub)


def _register_data(sub) -> None:
    data = sub.add_parser("data", help="build and inspect a twin's training data (finetune/README.md)")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    build = data_sub.add_parser("build", help="persona files -> validated train/holdout ChatML JSONL")
    build.add_argument("config", type=Path, help="run config TOML (finetune/configs/*.toml)")
    build.set_defaults(func=cmd_data_build)
    stats = data_sub.add_parser("stats", help="examples per kind and tokens per example against the context")
    stats.add_argument("config", type=Path, help="run config TOML (finetune/configs/*.toml)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(func=cmd_data_stats)


def _register_train(sub) -> None:
    train = sub.add_parser("train", help="LoRA fine-tune of the base on the built data (CPU or one CUDA GPU)")
    train.add_argument("config", type=Path, help="run config TOML (finetune/configs/*.toml)")
    mode = train.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    mode.add_argument("--restart", action="store_true", help="discard the checkpoint and start over")
    train.add_argument(
        "--stop-after",
        type=int,
        metavar="STEPS",
        help="stop cleanly after this many optimizer steps in total (resume later)",
    )
    train.add_argument(
        "--init-adapter",
        type=Path,
        metavar="DIR",
        help="start from this adapter's weights instead of a fresh LoRA ([train] init_adapter)",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)


def _register_export_and_merge(sub) -> None:
    from tabtwin.gguf.store import QUANTIZATIONS

    export = sub.add_parser("export", help="merge the adapter into the base: one self-describing, verified GGUF")
    export.add_argument("config", type=Path, help="run config TOML (finetune/configs/*.toml)")
    export.add_argument("--quantization", choices=QUANTIZATIONS, help="override [export] quantization")
    export.add_argument("--ollama", action="store_true", help="also write an Ollama Modelfile beside the GGUF")
    export.add_argument("--no-verify", action="store_true", help="skip loading the result in the core")
    export.set_defaults(func=cmd_export)

    merge = sub.add_parser("merge", help="base GGUF + LoRA adapter -> twin GGUF, numpy only (no torch)")
    merge.add_argument("base", type=Path, help="the base model's GGUF (the one the adapter was trained on)")
    merge.add_argument("adapter", type=Path, help="adapter folder (a portable one from `tabtwin export`)")
    merge.add_argument("out", type=Path)
    merge.add_argument("--quantization", choices=QUANTIZATIONS, default="auto")
    merge.add_argument(
        "--tie-embeddings",
        action="store_true",
        help="one matrix for the token embeddings and the output projection (a model trained tied, "
        "whose GGUF carries both)",
    )
    merge.add_argument("--no-check-base", action="store_true", help="skip the base sha256 check")
    merge.set_defaults(func=cmd_merge)


def _register_publish_model(sub) -> None:
    publish = sub.add_parser("publish-model", help="upload the twin, its adapter and a model card to Hugging Face")
    publish.add_argument("target", type=Path, help="run config TOML (its [export] output) or the twin's .gguf")
    publish.add_argument("--hf", required=True, metavar="OWNER/NAME", help="model repository (created if missing)")
    publish.add_argument("--revision", help="branch to commit to (created if missing; default main)")
    publish.add_argument("--private", action="store_true", help="create the repository private")
    publish.add_argument("--token", help="Hugging Face token (default: HF_TOKEN or the saved login)")
    publish.set_defaults(func=cmd_publish_model)


def _register_eval(sub) -> None:
    evaluate = sub.add_parser("eval", help="the exported twin on the holdout, run by the native core")
    evaluate.add_argument("config", type=Path, help="run config TOML (finetune/configs/*.toml)")
    evaluate.add_argument("--gguf", type=Path, help="the twin to evaluate (default: [export] output)")
    evaluate.add_argument("--limit", type=int, help="score at most this many holdout questions")
    evaluate.add_argument("--base", help="also run this GGUF or default model id, side by side")
    evaluate.add_argument("--no-base", action="store_true", help="the twin alone ([eval] compare_base ignored)")
    evaluate.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="answer with N processes at once, one core each (the same answers, sooner; default 1)",
    )
    evaluate.add_argument(
        "--no-grounding", action="store_true", help="ask without the site's passages only ([grounding] site ignored)"
    )
    evaluate.add_argument(
        "--fresh",
        action="store_true",
        help="ask every question again (default: an answer an earlier run gave to the same prompt, model,"
        " core and decoding is reused from ~/.cache/tabtwin/eval-answers)",
    )
    evaluate.add_argument(
        "--methods",
        action="store_true",
        help="also ask the grounded questions with each of the core's methods alone (answerability, told_only,"
        " nearest, contrast), combined and none: one row each",
    )
    evaluate.add_argument(
        "--method",
        action="append",
        default=[],
        metavar="NAME",
        help="only this run of --methods (none, answerability, told_only, nearest, contrast, both,"
        " both+contrast, all; repeatable):"
        " the rows to measure when every one would take too long",
    )
    evaluate.add_argument(
        "--sealed",
        action="store_true",
        help="the sealed canaries ([eval] sealed) alone, never used for tuning: writes <twin>.sealed.eval.*",
    )
    evaluate.set_defaults(func=cmd_eval)

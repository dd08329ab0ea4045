"""`tabtwin bench`: decode speed of the core, natively and in Chromium, beside a peer.

Prints a table and writes JSON. Timings are measurements, not test assertions.
  native  the core via tabtwin._core (candle CPU; threads as given)
  peer    llama-cpp-python on the same GGUF, when installed (a native reference runtime)
  browser the committed wasm in Debian Chromium, one thread, simd128, via the /chat page
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from tabtwin import keys

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def native(path: Path, max_tokens: int) -> dict:
    from tabtwin._core import Chat

    started = time.perf_counter()
    chat = Chat.from_path(path)
    load_s = time.perf_counter() - started
    stamps = []
    chat.generate(PROMPT, max_tokens=max_tokens, on_text=lambda _: stamps.append(time.perf_counter()) or True)
    return _rates(load_s, stamps, chat.last_prefill_tokens())


def peer(path: Path, max_tokens: int, threads: int) -> dict | None:
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    started = time.perf_counter()
    llm = Llama(model_path=str(path), n_threads=threads, n_ctx=2048, verbose=False)
    load_s = time.perf_counter() - started
    stamps = []
    for _ in llm.create_chat_completion(
        [{"role": "user", "content": PROMPT}], max_tokens=max_tokens, temperature=0.0, stream=True
    ):
        stamps.append(time.perf_counter())
    return _rates(load_s, stamps, None)


def _rates(load_s: float, stamps: list[float], prompt_tokens) -> dict:
    decode = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else None
    return {
        "load_s": round(load_s, 3),
        "pieces": len(stamps),
        "prompt_tokens": prompt_tokens,
        "decode_tok_s": round(decode, 2) if decode else None,
    }


def browser(paths: dict[str, Path], max_tokens: int, clips) -> dict:
    """Run the /chat page in Chromium for each model; read tok/s from the worker's DONE message."""
    import tempfile
    import threading

    from playwright.sync_api import sync_playwright

    from tabtwin.site.build import build
    from tabtwin.site.serve import make_server

    root = Path(__file__).resolve().parents[3]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "models.toml"
        registry.write_text(
            "\n".join(
                f'[[model]]\nid = "{i}"\nlabel = "{i}"\npath = "{p}"\n[model.sampling]\nmax_tokens = {max_tokens}\n'
                for i, p in paths.items()
            )
            + '\n[voice]\nmodel = "default"\n'
        )
        build(root, Path(tmp) / "site", registry, log=lambda *_: None)
        server = make_server(Path(tmp) / "site", "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/chat/"
        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox", "--disable-gpu"]
            )
            for model_id in paths:
                page = b.new_page()
                page.goto(url)
                page.wait_for_selector("body[data-initialized='true']")
                page.check(f".model-card[data-id='{model_id}'] input")
                started = time.perf_counter()
                page.click("#load")
                page.wait_for_selector("body[data-ready='true'], body[data-error]", timeout=600_000)
                load_s = time.perf_counter() - started
                page.fill("#prompt", PROMPT)
                page.keyboard.press("Enter")
                page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
                stats = json.loads(page.get_attribute("#stats", "data-done") or "null")
                stats = {k: round(v, 2) if isinstance(v, float) else v for k, v in (stats or {}).items()}
                results[model_id] = {
                    "load_s": round(load_s, 3),
                    **stats,
                    "simd128": page.evaluate("document.body.dataset.simd128") == "true",
                }
                page.close()
            page = b.new_page()
            page.goto(url)
            page.wait_for_selector("body[data-initialized='true']")
            results["__voice__"] = voice_browser(page, clips)
            page.close()
            b.close()
        server.shutdown()
    return results


VOICE_TEXT = {
    2: "thank you very much",
    10: "what is the weather like today and will it rain tomorrow "
    "in the city please tell me what books you like to read and what talks you gave last year",
}


def speech_clips(work: Path) -> dict:
    """About 2 s and 10 s of espeak-ng speech at 16 kHz."""
    import subprocess

    from tabtwin.voice.audio import read_wav

    clips = {}
    for seconds, text in VOICE_TEXT.items():
        raw, wav = work / f"{seconds}.raw.wav", work / f"{seconds}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", str(keys.SAMPLE_RATE), "-c", "1", "-b", "16", str(wav)], check=True)
        clips[seconds] = read_wav(wav)
    return clips


def voice_native(clips) -> dict:
    from tabtwin._core import Transcriber
    from tabtwin.catalog.whisper import ensure_default

    transcriber = Transcriber.from_path(ensure_default(log=lambda *_: None))
    results = {}
    for seconds, audio in clips.items():
        started = time.perf_counter()
        transcriber.transcribe(audio.tolist())
        compute = time.perf_counter() - started
        results[f"{seconds}s"] = {
            "audio_s": round(len(audio) / keys.SAMPLE_RATE, 2),
            "compute_s": round(compute, 2),
            "rtf": round(compute / (len(audio) / keys.SAMPLE_RATE), 3),
        }
    return results


# A worker of the benchmark's own, spoken to through the page's protocol module (the page exposes none).
VOICE_TIMINGS_JS = """async (clips) => {
    const msg = await import(new URL("../static/js/protocol.js", location.href));
    const { resolveEntry } = await import(new URL("../static/js/downloads.js", location.href));
    const registryUrl = new URL("../models.json", location.href);
    const voice = resolveEntry((await (await fetch(registryUrl)).json()).voice, registryUrl);
    const wasm = { js: new URL(document.body.dataset.wasm, location.href).href,
                   bin: new URL(document.body.dataset.wasmBin, location.href).href };
    const worker = msg.connect(new Worker(new URL("../static/js/worker.js", location.href), { type: "module" }),
                               ({ message }) => console.error(message));
    const request = (type, payload, last, transfer) => new Promise((resolve, reject) => worker.send(
        type, payload, { [last]: resolve, [msg.ERROR]: ({ message }) => reject(new Error(message)) }, transfer));
    await request(msg.LOAD_VOICE, { voice, wasm }, msg.VOICE_READY);
    const seconds = {};
    for (const [name, samples] of Object.entries(clips)) {
        const audio = new Float32Array(samples);
        seconds[name] = (await request(msg.TRANSCRIBE, { samples: audio }, msg.TRANSCRIPT, [audio.buffer])).seconds;
    }
    return seconds;
}"""


def voice_browser(page, clips) -> dict:
    computes = page.evaluate(VOICE_TIMINGS_JS, {str(seconds): audio.tolist() for seconds, audio in clips.items()})
    results = {}
    for seconds, audio in clips.items():
        compute = computes[str(seconds)]
        results[f"{seconds}s"] = {
            "audio_s": round(len(audio) / keys.SAMPLE_RATE, 2),
            "compute_s": round(compute, 2),
            "rtf": round(compute / (len(audio) / keys.SAMPLE_RATE), 3),
        }
    return results


def run(paths: dict[str, Path], max_tokens: int, out: Path, threads: int, with_browser: bool) -> dict:
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))
    report = {
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(), "threads": threads},
        "prompt": PROMPT,
        "max_tokens": max_tokens,
        "models": {},
    }
    for model_id, path in paths.items():
        report["models"][model_id] = {
            "file_mb": round(path.stat().st_size / 1e6, 1),
            "native": native(path, max_tokens),
            "peer": peer(path, max_tokens, threads),
        }
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        clips = speech_clips(Path(tmp))
    report["voice"] = {"native": voice_native(clips)}
    if with_browser:
        browser_results = browser(paths, max_tokens, clips)
        report["voice"]["browser"] = browser_results.pop("__voice__")
        for model_id, result in browser_results.items():
            report["models"][model_id]["browser"] = result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'model':<30} {'runtime':<26} {'load s':>8} {'decode tok/s':>13}")
    for model_id, r in report["models"].items():
        for name, label in (
            ("native", f"tabtwin native ({threads} thr)"),
            ("peer", f"llama.cpp ({threads} thr)"),
            ("browser", "tabtwin wasm (1 thr, simd)"),
        ):
            if r.get(name):
                print(
                    f"{model_id:<30} {label:<26} {r[name].get('load_s', 0):>8} {r[name].get('decode_tok_s') or '-':>13}"
                )
    for where, clips_result in report["voice"].items():
        for clip, r in clips_result.items():
            print(f"{'whisper tiny.en ' + clip:<30} {where:<26} {'':>8} RTF {r['rtf']} ({r['compute_s']} s)")
    print(f"wrote {out}")
    return report

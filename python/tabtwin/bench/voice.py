"""Whisper tiny.en: real-time factor (compute seconds / audio seconds) and word error rate on the
hold-to-talk test set (`tabtwin.voice.testset`), natively and in Chromium through the site's own
worker, with faster-whisper on the same CTranslate2 bundle beside it (`tabtwin bench voice`).
`bench native` keeps its two-clip figure (`speech_clips`, `voice_native`, `voice_browser`)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.voice import testset

VOICE_TEXT = {
    2: "thank you very much",
    10: "what is the weather like today and will it rain tomorrow "
    "in the city please tell me what books you like to read and what talks you gave last year",
}
# Window settings measured by default: the core's fitted window, Whisper's 30 s, and fixed ones
# in between (seconds), for the table that chose the fitted window's floor and margin.
WINDOWS = ("fitted", "full")
# faster-whisper as the transcription tests call it: greedy, no timestamps, no VAD, English.
PEER_OPTIONS = {
    "language": "en",
    "beam_size": 1,
    "temperature": 0.0,
    "without_timestamps": True,
    "vad_filter": False,
    "condition_on_previous_text": False,
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


def _rtf(clips, computes: dict) -> dict:
    results = {}
    for seconds, audio in clips.items():
        compute = computes[seconds]
        results[f"{seconds}s"] = {
            "audio_s": round(len(audio) / keys.SAMPLE_RATE, 2),
            "compute_s": round(compute, 2),
            "rtf": round(compute / (len(audio) / keys.SAMPLE_RATE), 3),
        }
    return results


def _transcriber():
    from tabtwin._core import Transcriber
    from tabtwin.catalog.whisper import ensure_default

    return Transcriber.from_path(ensure_default(log=lambda *_: None))


def voice_native(clips) -> dict:
    transcriber = _transcriber()
    computes = {}
    for seconds, audio in clips.items():
        started = time.perf_counter()
        transcriber.transcribe(audio.tolist())
        computes[seconds] = time.perf_counter() - started
    return _rtf(clips, computes)


# A worker of the benchmark's own, spoken to through the page's protocol module (the page exposes none).
VOICE_TIMINGS_JS = """async ({ clips, options }) => {
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
    const results = {};
    for (const [name, samples] of Object.entries(clips)) {
        const audio = new Float32Array(samples);
        const reply = await request(msg.TRANSCRIBE, { samples: audio, options }, msg.TRANSCRIPT, [audio.buffer]);
        results[name] = { seconds: reply.seconds, text: reply.text };
    }
    return results;
}"""


def voice_browser(page, clips) -> dict:
    computes = page.evaluate(
        VOICE_TIMINGS_JS, {"clips": {str(s): a.tolist() for s, a in clips.items()}, "options": None}
    )
    return _rtf(clips, {seconds: computes[str(seconds)]["seconds"] for seconds in clips})


# --------------------------------------------------------------------------- the test set


def _window_arg(window: str):
    """`fitted`, `full`, or a number of seconds, as the binding takes it."""
    return window if window in ("fitted", "full") else float(window)


def tabtwin_native(clips: list, window: str) -> dict:
    """Per clip: the text and the compute seconds, the native core, one thread."""
    transcriber = _transcriber()
    out = {}
    for clip in clips:
        audio = clip.audio.tolist()
        started = time.perf_counter()
        result = transcriber.transcribe(audio, _window_arg(window))
        out[clip.name] = {"text": result["text"], "seconds": time.perf_counter() - started}
    return out


def faster_whisper_native(clips: list, compute_type: str) -> dict:
    """Per clip: faster-whisper's text and compute seconds on the bundle the GGUF was converted from."""
    from faster_whisper import WhisperModel

    from tabtwin.catalog.whisper import bundle_dir

    model = WhisperModel(str(bundle_dir()), device="cpu", compute_type=compute_type, cpu_threads=1)
    out = {}
    for clip in clips:
        audio = clip.audio
        started = time.perf_counter()
        segments, _ = model.transcribe(audio, **PEER_OPTIONS)
        text = " ".join(s.text.strip() for s in segments)
        out[clip.name] = {"text": text, "seconds": time.perf_counter() - started}
    return out


def tabtwin_browser(clips: list, windows: list[str], wasm: Path | None) -> dict:
    """Per window, per clip: the text and compute seconds in Chromium (the worker's own timing)."""
    from playwright.sync_api import sync_playwright

    from tabtwin.bench.chromium import CHROMIUM, FLAGS
    from tabtwin.bench.site import served_site
    from tabtwin.catalog import defaults

    # a site needs one chat model; the smallest default is served beside Whisper and never loaded
    smallest = defaults.DEFAULT_MODELS[0]
    chat_model = {smallest.id: defaults.fetch(smallest, log=lambda *_: None)}
    payload = {clip.name: clip.audio.tolist() for clip in clips}
    results = {}
    with served_site(chat_model, wasm=wasm, voice=True) as (base, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", *FLAGS])
        for window in windows:
            page = browser.new_page()
            page.goto(f"{base}chat/")
            page.wait_for_selector("body[data-initialized='true']")
            options = {"window": {"seconds": float(window)} if window not in ("fitted", "full") else window}
            results[window] = page.evaluate(VOICE_TIMINGS_JS, {"clips": payload, "options": options})
            page.close()
        browser.close()
    return results


def summarize(clips: list, runs: dict) -> dict:
    """Per system: word error rate over each bucket's clips and over all, and the median real-time factor."""
    table = {}
    for system, per_clip in runs.items():
        row = {}
        buckets = sorted({c.nominal_seconds for c in clips if c.name in per_clip})
        for bucket in [*buckets, "all"]:
            chosen = [c for c in clips if c.name in per_clip and (bucket == "all" or c.nominal_seconds == bucket)]
            pairs = [(c.text, per_clip[c.name]["text"]) for c in chosen]
            rtfs = [per_clip[c.name]["seconds"] / c.seconds for c in chosen]
            row[f"{bucket}s" if bucket != "all" else "all"] = {
                "clips": len(chosen),
                "audio_s": round(statistics.median(c.seconds for c in chosen), 2),
                "wer": round(testset.corpus_wer(pairs), 4),
                "rtf": round(statistics.median(rtfs), 3),
            }
        table[system] = row
    return table


def run(windows: list[str], out: Path, browser: bool, peer: bool, wasm: Path | None, browser_voices: int) -> dict:
    clips = testset.build()
    runs = {}
    # an older wasm is a browser-only comparison: the native core and the peer are today's
    for window in windows if wasm is None else ():
        runs[f"tabtwin native, window {window}"] = tabtwin_native(clips, window)
    if peer and wasm is None:
        runs["faster-whisper native (int8)"] = faster_whisper_native(clips, "int8")
        runs["faster-whisper native (float32)"] = faster_whisper_native(clips, "float32")
    if browser:
        # Chromium is the slow part: each bucket's first phrase, in the first voices
        chosen = [c for c in clips if c.name.split("-")[1] == "p0" and int(c.name.split("-v")[1]) < browser_voices]
        label = f"tabtwin Chromium ({wasm})" if wasm else "tabtwin Chromium"
        for window, per_clip in tabtwin_browser(chosen, windows, wasm).items():
            runs[f"{label}, window {window}"] = per_clip
    table = summarize(clips, runs)
    report = {"test_set": [c.__dict__ for c in clips], "runs": runs, "summary": table}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(table)
    print(f"wrote {out}")
    return report


def markdown(report: dict) -> str:
    """The README's voice table: real-time factor and word error rate per clip length, per system."""
    buckets = ["1s", "2s", "5s", "10s", "all"]
    lines = [
        "| system | " + " | ".join(f"{b} RTF" for b in buckets[:-1]) + " | WER (all clips) |",
        "|" + " --- |" * len(buckets + [""]),
    ]
    for system, row in report["summary"].items():
        rtf = [f"{row[b]['rtf']:.2f}" if b in row else "-" for b in buckets[:-1]]
        wer = f"{row['all']['wer'] * 100:.1f}% ({row['all']['clips']} clips)" if "all" in row else "-"
        lines.append(f"| {system} | " + " | ".join(rtf) + f" | {wer} |")
    return "\n".join(lines)


def write_readme(results: Path, readme: Path) -> None:
    from tabtwin.bench.report import replace_section

    if not results.is_file():
        raise TabtwinError(f"{results}: no results yet (run `tabtwin bench voice` first)")
    report = json.loads(results.read_text())
    readme.write_text(replace_section(readme.read_text(), markdown(report), "voice"))


def print_table(table: dict) -> None:
    buckets = ["1s", "2s", "5s", "10s", "all"]
    print(f"{'system':<40} " + " ".join(f"{b + ' WER':>9} {b + ' RTF':>8}" for b in buckets))
    for system, row in table.items():
        cells = []
        for b in buckets:
            r = row.get(b)
            cells.append(f"{r['wer'] * 100:>8.1f}% {r['rtf']:>8.3f}" if r else f"{'-':>9} {'-':>8}")
        print(f"{system:<40} " + " ".join(cells))

"""Whisper tiny.en's real-time factor (compute seconds / audio seconds) on espeak-ng speech: natively,
and in Chromium through the site's own worker."""

from __future__ import annotations

import time
from pathlib import Path

from tabtwin import keys

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


def voice_native(clips) -> dict:
    from tabtwin._core import Transcriber
    from tabtwin.catalog.whisper import ensure_default

    transcriber = Transcriber.from_path(ensure_default(log=lambda *_: None))
    computes = {}
    for seconds, audio in clips.items():
        started = time.perf_counter()
        transcriber.transcribe(audio.tolist())
        computes[seconds] = time.perf_counter() - started
    return _rtf(clips, computes)


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
    return _rtf(clips, {seconds: computes[str(seconds)] for seconds in clips})

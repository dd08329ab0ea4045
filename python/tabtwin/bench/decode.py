"""`tabtwin bench` (`tabtwin bench native`): decode speed of the core natively and in the /chat page,
beside llama.cpp; Whisper's real-time factor. Prints a table and writes JSON.
  native  the core via tabtwin._core (candle CPU; threads as given)
  peer    llama-cpp-python on the same GGUF, when installed (a native reference runtime)
  browser the committed wasm in Debian Chromium, one thread, simd128, via the /chat page
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path

from tabtwin.bench.native import PROMPT, native, peer
from tabtwin.bench.voice import speech_clips, voice_native


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
    with tempfile.TemporaryDirectory() as tmp:
        clips = speech_clips(Path(tmp))
    report["voice"] = {"native": voice_native(clips)}
    if with_browser:
        from tabtwin.bench.chatpage import browser

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

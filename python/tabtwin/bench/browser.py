"""`tabtwin bench browser`: tabtwin against wllama on the same GGUF files in the same Debian Chromium.

The site is built into a temporary folder for the files (tabtwin.bench.site) with the committed wasm or
--wasm, and served on loopback with a small harness (harness/) and the pinned wllama package (fetched
once with npm into the cache). Each run is a fresh headless Chromium on a fresh profile; runs alternate
tabtwin/wllama. A run loads the model (uncached: page start to ready), generates `generations` replies of
`max_tokens` greedy tokens to the same chat prompt (the same prompt tokens for both), reads the
renderer's peak RSS, then reloads the page in the same profile and times the way to the first token
from the runtime's own cache. The memory-bandwidth bound comes from the same browser (bandwidth.py).
Writes JSON and a PNG chart, prints the table; timings are measurements, never test assertions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tabtwin.bench import bandwidth, report, wllama
from tabtwin.bench.chromium import CHROMIUM, FLAGS, fresh_profile, renderer_peak_rss_mb
from tabtwin.bench.models import model_id
from tabtwin.bench.site import ROOT, served_site
from tabtwin.errors import TabtwinError

# About 38 prompt tokens once the model's chat template wraps it (with its default system message).
PROMPT = "Write a story about a lighthouse keeper."
HARNESS = Path(__file__).resolve().parent / "harness"


@dataclass(frozen=True)
class Settings:
    runs: int = 3
    generations: int = 2
    max_tokens: int = 128
    reload_tokens: int = 4  # the reload is timed to its first token: a short reply
    # The site's worker caps a conversation at 2048 tokens; wllama gets the same context (n_ctx).
    context: int = 2048
    prompt: str = PROMPT
    wasm: Path | None = None
    wllama_version: str = wllama.VERSION
    runtimes: tuple[str, ...] = report.RUNTIMES
    timeout_s: int = 1200  # one page visit, at most


def rendered_prompt(path: Path, prompt: str) -> tuple[str, list[int]]:
    """The prompt as tabtwin's core renders it (the GGUF's chat template, its default system message)
    and its tokens. wllama is handed this very text (its completion API takes text, not token ids), and
    the prompt tokens it reports are checked against these."""
    from tabtwin._core import Chat

    chat = Chat.from_path(path)
    text = chat.render([("user", prompt)])
    return text, list(chat.encode(text))


def wasm_info(wasm: Path | None) -> dict:
    folder = wasm or ROOT / "site" / "static" / "wasm"
    binary = (folder / "tabtwin_web_bg.wasm").read_bytes()
    info = folder / "BUILD_INFO.json"
    home = str(Path.home())
    return {
        "source": str(folder).replace(home, "~") if wasm else "site/static/wasm, committed",
        "sha256": hashlib.sha256(binary).hexdigest(),
        "bytes": len(binary),
        "build_info": json.loads(info.read_text()) if info.is_file() else None,
    }


def install_harness(site: Path, files: dict[str, Path], prompts: dict[str, tuple], package: Path, s: Settings):
    """The harness pages, their settings, wllama and the raw GGUF files beside the built site."""
    shutil.copytree(HARNESS, site / "bench")
    (site / "wllama").symlink_to(package)
    (site / "gguf").mkdir()
    for mid, path in files.items():
        (site / "gguf" / f"{mid}.gguf").symlink_to(path.resolve())
    # the build stages the wasm under content-hashed names
    staged = {
        kind: next((site / "static" / "wasm").glob(f"*.{ext}")).name for kind, ext in (("js", "js"), ("bin", "wasm"))
    }
    config = {
        "prompt": s.prompt,
        "max_tokens": s.max_tokens,
        "generations": s.generations,
        "reload_tokens": s.reload_tokens,
        "context": s.context,
        "tabtwin": {"wasm": {kind: f"/static/wasm/{name}" for kind, name in staged.items()}},
        "wllama": {"entry": f"/wllama/{wllama.ENTRY}", "wasm": f"/wllama/{wllama.WASM}"},
        "models": {mid: {"gguf": f"/gguf/{mid}.gguf", "prompt_text": prompts[mid][0]} for mid in files},
    }
    (site / "bench" / "config.json").write_text(json.dumps(config))


def visit(page, url: str, console: list[str]) -> dict:
    """Open a harness page and wait for its outcome (window.bench)."""
    page.goto(url)
    page.wait_for_function("() => window.bench !== undefined", timeout=120_000)
    outcome = page.evaluate("() => window.bench")
    if not outcome.get("ok"):
        tail = "; ".join(console[-5:])
        raise TabtwinError(f"{url}: {outcome.get('error')}" + (f" (console: {tail})" if tail else ""))
    return outcome


def one_run(playwright, base: str, runtime: str, mid: str, s: Settings) -> dict:
    """A fresh browser and profile: first visit (uncached load, generations, peak RSS), then the reload."""
    with fresh_profile(playwright) as (context, profile):
        page = context.pages[0] if context.pages else context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        url = f"{base}bench/{runtime}.html?model={mid}&timeout_s={s.timeout_s}"
        first = visit(page, f"{url}&phase=first", console)
        rss = renderer_peak_rss_mb(profile)
        again = visit(page, f"{url}&phase=reload", console)
    generations = first.pop("generations")
    reload_generation = again["generations"][0]
    return {
        "load_s": first.pop("ready_s"),
        "generations": generations,
        "reload_ready_s": again["ready_s"],
        "reload_first_token_s": reload_generation["first_token_at_s"],
        "reload_cached": again.get("cached"),
        "rss_peak_mb": rss,
        **{k: v for k, v in first.items() if k != "ok"},
    }


def measure_bandwidth(playwright, base: str, s: Settings) -> list[float]:
    with fresh_profile(playwright) as (context, _):
        page = context.pages[0] if context.pages else context.new_page()
        return visit(page, f"{base}bench/bandwidth.html?timeout_s={s.timeout_s}", [])["gb_s"]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def progress_line(mid: str, run: int, s: Settings, runtime: str, result: dict) -> str:
    decode = [g["decode_tok_s"] for g in result["generations"] if g.get("decode_tok_s")]
    first = [g["first_token_s"] for g in result["generations"] if g.get("first_token_s") is not None]
    return (
        f"{mid} run {run + 1}/{s.runs} {runtime:<7}: load {result['load_s']:.2f} s, first token "
        f"{', '.join(f'{v:.2f}' for v in first)} s, decode {', '.join(f'{v:.1f}' for v in decode)} tok/s, "
        f"reload to first token {result['reload_first_token_s'] or 0:.2f} s, peak RSS {result['rss_peak_mb']} MB"
    )


def run(paths: list[Path], s: Settings, out: Path, log=print) -> dict:
    from playwright.sync_api import sync_playwright

    files: dict[str, Path] = {}
    for path in paths:
        mid = model_id(path)
        while mid in files:
            mid += "-b"
        files[mid] = path
    prompts = {mid: rendered_prompt(path, s.prompt) for mid, path in files.items()}
    package = wllama.ensure(s.wllama_version, log)
    results = {
        "schema": "tabtwin-bench-browser/1",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "loadavg_start": os.getloadavg()[0]},
        "browser": {"executable": CHROMIUM, "flags": ["--headless", *FLAGS]},
        "settings": {
            **{k: v for k, v in asdict(s).items() if k not in ("wasm", "runtimes", "timeout_s")},
            "threads": 1,
            "temperature": 0,
            "repeat_penalty": 1.0,
        },
        "tabtwin": {"wasm": wasm_info(s.wasm)},
        "wllama": {**wllama.describe(package), "n_threads": 1, "n_gpu_layers": 0, "n_ctx": s.context},
        "models": [],
    }
    runs = {mid: {runtime: [] for runtime in s.runtimes} for mid in files}
    log(f"building the site for {len(files)} model(s) ({results['tabtwin']['wasm']['source']})")
    with served_site(files, wasm=s.wasm) as (base, site), sync_playwright() as playwright:
        install_harness(site, files, prompts, package, s)
        gb_s = measure_bandwidth(playwright, base, s)
        log(f"wasm single-thread read bandwidth: best {max(gb_s):.1f} GB/s")
        for mid in files:
            for r in range(s.runs):
                for runtime in s.runtimes:
                    result = one_run(playwright, base, runtime, mid, s)
                    runs[mid][runtime].append(result)
                    log(progress_line(mid, r, s, runtime, result))
        gb_s += measure_bandwidth(playwright, base, s)
    best = max(gb_s)
    results["bandwidth"] = {"gb_s": best, "median_gb_s": sorted(gb_s)[len(gb_s) // 2], "samples": gb_s}
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    results["browser"]["user_agent"] = next((r[0]["user_agent"] for m in runs.values() for r in m.values() if r), "")
    for mid, path in files.items():
        per_token = bandwidth.weight_bytes_per_token(bandwidth.tensor_bytes(path))
        bound = bandwidth.bound_tok_s(best, per_token)
        for runtime_runs in runs[mid].values():
            for result in runtime_runs:
                for g in result["generations"]:
                    g["bound_fraction"] = g["decode_tok_s"] / bound if g.get("decode_tok_s") and bound else None
        seen = {g.get("prompt_tokens") for r in runs[mid].get("wllama", []) for g in r["generations"]} - {None}
        results["models"].append(
            {
                "id": mid,
                "file": str(path).replace(str(Path.home()), "~"),
                "file_mb": path.stat().st_size / 1e6,
                "weights_mb_per_token": per_token / 1e6,
                "bound_tok_s": bound,
                "prompt_tokens": len(prompts[mid][1]),
                "prompt_tokens_wllama": sorted(seen),
                "runs": runs[mid],
                "summary": report.summarize(runs[mid]),
            }
        )
        if seen and seen != {len(prompts[mid][1])}:
            log(f"warning: {mid}: wllama counted {sorted(seen)} prompt tokens, tabtwin {len(prompts[mid][1])}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    from tabtwin.bench.chart import write_chart

    chart = write_chart(results, out.with_suffix(".png"))
    log(report.table(results))
    log(f"wrote {out} and {chart}")
    return results

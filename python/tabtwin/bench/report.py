"""What `tabtwin bench browser` reports, from its JSON alone: each metric's median and spread (min-max)
for tabtwin and wllama, their ratio over paired runs, the console table and the README section (between
the markers below, so that the README's figures are regenerated, never typed)."""

from __future__ import annotations

import json
import statistics
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tabtwin.errors import TabtwinError

RUNTIMES = ("tabtwin", "wllama")
START = "<!-- bench:browser:start -->"
END = "<!-- bench:browser:end -->"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    per: str  # "run": one sample a run; "generation": one a generation
    digits: int


METRICS = (
    Metric("load_s", "load, first visit", "s", "run", 2),
    Metric("first_token_s", "time to first token", "s", "generation", 2),
    Metric("decode_tok_s", "decode", "tok/s", "generation", 1),
    Metric("bound_fraction", "decode / bandwidth bound", "", "generation", 2),
    Metric("reload_first_token_s", "cached reload to first token", "s", "run", 2),
    Metric("rss_peak_mb", "renderer peak RSS", "MB", "run", 0),
)


def spread(values) -> dict | None:
    """Median, min, max and count of the values that were measured (None: not measured)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def samples(runs: list[dict], metric: Metric) -> list:
    """A metric's samples in run order (per generation: every generation of every run)."""
    found = []
    for run in runs:
        if metric.per == "generation":
            found += [g.get(metric.key) for g in run.get("generations", [])]
        else:
            found.append(run.get(metric.key))
    return found


def paired_ratios(ours: list, theirs: list) -> list[float]:
    """tabtwin/wllama sample by sample: the runs alternate, so sample i of each ran side by side."""
    return [a / b for a, b in zip(ours, theirs) if a is not None and b]


def summarize(runs: dict[str, list[dict]]) -> dict:
    """metric -> {"tabtwin": spread, "wllama": spread, "ratio": spread of the paired ratios}."""
    summary = {}
    for metric in METRICS:
        found = {runtime: samples(runs.get(runtime, []), metric) for runtime in RUNTIMES}
        summary[metric.key] = {runtime: spread(found[runtime]) for runtime in RUNTIMES}
        summary[metric.key]["ratio"] = spread(paired_ratios(found["tabtwin"], found["wllama"]))
    return summary


def cell(value: dict | None, digits: int, suffix: str = "") -> str:
    if value is None:
        return "-"
    median = f"{value['median']:.{digits}f}{suffix}"
    if value["n"] == 1 or value["min"] == value["max"]:
        return median
    return f"{median} ({value['min']:.{digits}f}-{value['max']:.{digits}f})"


def model_label(model: dict) -> str:
    return f"{model['id']} ({model['file_mb']:.0f} MB)"


def metric_label(metric: Metric) -> str:
    return f"{metric.label} ({metric.unit})" if metric.unit else metric.label


def rows(report: dict) -> list[tuple[str, str, str, str, str]]:
    """(model, metric, tabtwin, wllama, ratio) for every model and metric, the model named once."""
    found = []
    for model in report["models"]:
        summary = model.get("summary") or summarize(model["runs"])
        for i, metric in enumerate(METRICS):
            s = summary[metric.key]
            found.append(
                (
                    model_label(model) if i == 0 else "",
                    metric_label(metric),
                    cell(s["tabtwin"], metric.digits),
                    cell(s["wllama"], metric.digits),
                    cell(s["ratio"], 2, "x"),
                )
            )
    return found


HEADER = ("model", "metric", "tabtwin", "wllama", "tabtwin/wllama")


def table(report: dict) -> str:
    """The console table."""
    lines = [HEADER, *rows(report)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def caption(report: dict) -> str:
    s = report["settings"]
    machine, wasm, wllama = report["machine"], report["tabtwin"]["wasm"], report["wllama"]
    bandwidth = report.get("bandwidth") or {}
    prompts = sorted({m["prompt_tokens"] for m in report["models"]})
    chromium = next((p for p in report.get("browser", {}).get("user_agent", "").split() if "Chrome/" in p), "Chromium")
    return (
        f"Measured {report['date']} on {machine['cpu']} ({machine['cores']} cores, shared; load average "
        f"{machine['loadavg_start']:.1f} at the start), Debian Chromium ({chromium.replace('HeadlessChrome/', '')}, "
        f"headless), {wllama.get('name', '@wllama/wllama')} {wllama.get('version', '?')} from npm, tabtwin wasm "
        f"`{wasm['sha256'][:12]}` ({wasm['source']}). {s['runs']} runs x {s['generations']} generations per "
        f"runtime and model, alternating tabtwin/wllama, each run in a fresh browser profile; {s['max_tokens']} "
        f"greedy tokens (no repeat penalty, one thread) after the same "
        f"{'/'.join(str(p) for p in prompts)}-token chat prompt. Cells: median (min-max); the ratio is "
        f"tabtwin/wllama over paired runs. Load: page start to model ready, model bytes served from "
        f"localhost; reload: the page again in the same profile (tabtwin: Cache API; wllama: its OPFS cache) "
        f"to the first token. Bandwidth bound: single-thread wasm v128 read bandwidth "
        f"({bandwidth.get('gb_s', 0):.1f} GB/s, best of {len(bandwidth.get('samples', []))} passes) / "
        f"weight bytes read per token."
    )


def markdown(report: dict) -> str:
    """The README section: the caption, then one table."""
    text = textwrap.fill(caption(report), width=105, break_long_words=False, break_on_hyphens=False)
    lines = [text, "", "| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(report)]
    return "\n".join(lines)


def replace_section(text: str, section: str, name: str = "browser") -> str:
    """`text` with what lies between the `<!-- bench:NAME:start/end -->` markers replaced by `section`."""
    first, last = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    start, end = text.find(first), text.find(last)
    if start < 0 or end < start:
        raise TabtwinError(f"no '{first}' ... '{last}' section to rewrite")
    return text[: start + len(first)] + "\n" + section.strip() + "\n" + text[end:]


def write_readme(results: Path, readme: Path) -> None:
    if not results.is_file():
        raise TabtwinError(f"{results}: no results yet (run `tabtwin bench browser` first)")
    report = json.loads(results.read_text())
    readme.write_text(replace_section(readme.read_text(), markdown(report)))

"""The PNG beside `tabtwin bench browser`'s JSON: one panel per metric, a pair of bars (tabtwin, wllama)
per model at the median, whiskers from min to max; the decode panel names each model's bandwidth bound."""

from __future__ import annotations

from pathlib import Path

from tabtwin.bench.report import METRICS, RUNTIMES, metric_label, summarize

COLORS = {"tabtwin": "#2b6cb0", "wllama": "#c05621"}


def write_chart(report: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = report["models"]
    summaries = [m.get("summary") or summarize(m["runs"]) for m in models]
    columns = 3
    rows = -(-len(METRICS) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    width = 0.38
    for ax, metric in zip(axes.flat, METRICS):
        for k, runtime in enumerate(RUNTIMES):
            xs, heights, low, high = [], [], [], []
            for i, summary in enumerate(summaries):
                s = summary[metric.key][runtime]
                if s is None:
                    continue
                xs.append(i + (k - 0.5) * width)
                heights.append(s["median"])
                low.append(s["median"] - s["min"])
                high.append(s["max"] - s["median"])
            ax.bar(xs, heights, width, yerr=[low, high], capsize=3, color=COLORS[runtime], label=runtime)
        names = [m["id"] for m in models]
        if metric.key == "decode_tok_s":  # the bound itself is far above the bars: named, not drawn
            names = [
                f"{m['id']}\nbound {m['bound_tok_s']:.0f} tok/s" if m.get("bound_tok_s") else m["id"] for m in models
            ]
        ax.set_title(metric_label(metric), fontsize=10)
        ax.set_xticks(range(len(models)), names, rotation=10, fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(METRICS) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    settings = report["settings"]
    fig.suptitle(
        f"tabtwin vs wllama in Chromium, one thread: {settings['runs']} runs x {settings['generations']} "
        f"generations, {settings['max_tokens']} greedy tokens ({report['date']})",
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

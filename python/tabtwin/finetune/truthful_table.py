"""The truthfulness tables, generated from the committed evaluations (never typed): for each demo
twin, each grounded run of `tabtwin eval --methods` (the site as served, and each of the core's
methods alone, combined and none). The README's block (`eval:truthful`) shows the sealed canaries,
the numbers that count; an experiment log's block (`eval:truthful-all`) shows the tuning ones too.

    python -m tabtwin.finetune.truthful_table README.md docs/experiments/X.md   # rewrite their blocks
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

START = "<!-- eval:truthful:start -->"
END = "<!-- eval:truthful:end -->"
# Each block's name and the canary splits it shows.
BLOCKS = {"truthful": ("sealed",), "truthful-all": ("tuning", "sealed")}
SPLITS = {"tuning": ".eval.json", "sealed": ".sealed.eval.json"}
TWINS = ("ada-smollm2-135m", "ada-qwen2.5-0.5b")
# (rubric key, column title); marked refusals of known facts and inventions flagged: lower is better
COLUMNS = (
    ("recall_canaries", "recall"),
    ("honesty", "honesty"),
    ("identity", "identity"),
    ("tool", "tool"),
    ("marked_refusal_recall", "known facts refused"),
    ("flagged_honesty", "off-map answers flagged"),
)
RUNS = {
    "+grounding:none": "grounded, no method",
    "+grounding:answerability": "answerability alone",
    "+grounding:told_only": "told_only alone",
    "+grounding:nearest": "nearest alone",
    "+grounding:contrast": "contrast alone",
    "+grounding:both": "answerability + told_only",
    "+grounding:both+contrast": "answerability + told_only + contrast",
    "+grounding:all": "all three",
    "+grounding": "**as served**",
}


def cell(rate: dict | None) -> str:
    if not rate or rate.get("value") is None:
        return "-"
    return f"{rate['value']:.0%} ({rate['passed']}/{rate['n']})"


def rows(twins_dir: Path, splits: tuple[str, ...] = ("sealed",)) -> list[str]:
    out = []
    for twin in TWINS:
        for split in splits:
            path = twins_dir / f"{twin}{SPLITS[split]}"
            if not path.is_file():
                continue
            report = json.loads(path.read_text(encoding="utf-8"))
            if "sealed" not in report:
                continue  # made before the core's methods: its "+grounding" is not the site as served
            summary = report["summary"]
            for run, title in RUNS.items():
                rubric = summary.get(f"twin{run}", {}).get("rubric")
                if rubric is not None:
                    out.append(
                        f"| {twin} | {split} | {title} | " + " | ".join(cell(rubric.get(k)) for k, _ in COLUMNS) + " |"
                    )
    return out


def table(twins_dir: Path, splits: tuple[str, ...] = ("sealed",)) -> str:
    head = "| twin | canaries | grounded run | " + " | ".join(t for _, t in COLUMNS) + " |"
    rule = "| " + " | ".join(["---"] * (3 + len(COLUMNS))) + " |"
    return "\n".join([head, rule, *rows(twins_dir, splits)])


def markers(name: str) -> tuple[str, str]:
    return f"<!-- eval:{name}:start -->", f"<!-- eval:{name}:end -->"


def block(twins_dir: Path, name: str = "truthful") -> str:
    start, end = markers(name)
    return f"{start}\n{table(twins_dir, BLOCKS[name])}\n{end}"


def replace_block(text: str, twins_dir: Path) -> str:
    """`text` with each block it holds regenerated; a text holding none is an error."""
    found = False
    for name in BLOCKS:
        start, end = markers(name)
        if start in text and end in text:
            before, rest = text.split(start, 1)
            _, after = rest.split(end, 1)
            text, found = before + block(twins_dir, name) + after, True
    if not found:
        raise SystemExit(f"no {START} ... {END} block (or eval:truthful-all)")
    return text


def main(argv: list[str]) -> int:
    for doc in [Path(a) for a in argv] or [Path("README.md")]:
        twins = Path(__file__).resolve().parents[3] / "finetune" / "twins"
        doc.write_text(replace_block(doc.read_text(encoding="utf-8"), twins), encoding="utf-8")
        print(f"wrote the truthfulness table into {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

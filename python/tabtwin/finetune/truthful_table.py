"""The README's truthfulness table, generated from the committed evaluations (never typed): for each
demo twin, each grounded run of `tabtwin eval --methods` (the site as served, and each of the core's
methods alone, both and none) on the tuning canaries and on the sealed ones.

    python -m tabtwin.finetune.truthful_table README.md     # rewrite the block between the markers
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

START = "<!-- eval:truthful:start -->"
END = "<!-- eval:truthful:end -->"
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
    "+grounding:both": "answerability + told_only",
    "+grounding:all": "all three",
    "+grounding": "**as served**",
}


def cell(rate: dict | None) -> str:
    if not rate or rate.get("value") is None:
        return "-"
    return f"{rate['value']:.0%} ({rate['passed']}/{rate['n']})"


def rows(twins_dir: Path) -> list[str]:
    out = []
    for twin in TWINS:
        for split, suffix in (("tuning", ".eval.json"), ("sealed", ".sealed.eval.json")):
            path = twins_dir / f"{twin}{suffix}"
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


def table(twins_dir: Path) -> str:
    head = "| twin | canaries | grounded run | " + " | ".join(t for _, t in COLUMNS) + " |"
    rule = "| " + " | ".join(["---"] * (3 + len(COLUMNS))) + " |"
    return "\n".join([head, rule, *rows(twins_dir)])


def block(twins_dir: Path) -> str:
    return f"{START}\n{table(twins_dir)}\n{END}"


def replace_block(text: str, twins_dir: Path) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"the README has no {START} ... {END} block")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return before + block(twins_dir) + after


def main(argv: list[str]) -> int:
    readme = Path(argv[0]) if argv else Path("README.md")
    twins = readme.resolve().parent / "finetune" / "twins"
    readme.write_text(replace_block(readme.read_text(encoding="utf-8"), twins), encoding="utf-8")
    print(f"wrote the truthfulness table into {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

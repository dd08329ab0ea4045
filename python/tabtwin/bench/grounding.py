"""`tabtwin bench grounding`: what grounding costs a visitor, measured on the /chat page in Chromium.

The repository's default twin and its [grounding] table are built into a site and served on loopback;
one Chromium page loads the twin (the index and the embedder come with it), then asks each question
twice in alternation, grounding on and off (the page's own toggle), each in a new chat so both turns
start from the same empty conversation. Read per turn from the worker's DONE figures the page shows
(#stats[data-done]): time to first token (prompt processing, which for a grounded turn includes
retrieving and embedding the question and the longer prompt) and the passages used. Prints medians,
the spread and the difference, and writes JSON.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
from pathlib import Path

from tabtwin.bench.chromium import CHROMIUM, FLAGS, load_model_in_page

ROOT = Path(__file__).resolve().parents[3]
QUESTIONS = (
    "Which of your tools prints tide tables?",
    "ur hometown?",
    "What do you call your sourdough starter?",
    "Have you given a talk about maps?",
    "What is your blood type?",
)


def registry_text(root: Path) -> tuple[str, str]:
    """A models.toml with the repository's default twin and its [grounding] table (paths absolute)."""
    from tabtwin.site.registry import load

    twin = next(e for e in load(root / "models.toml") if e.default)
    lines = [
        '[site]\ntarget = "unlimited"\n',
        f'[[model]]\nid = "{twin.id}"\nlabel = "{twin.label}"\nbase = "{twin.base}"\n'
        f'adapter = "{(root / twin.adapter).resolve()}"\ndefault = true\n',
        "[voice]\nenabled = false\n",
        f'[grounding]\nqa = "{(root / "finetune/data/ada/seeds.jsonl").resolve()}"\n',
    ]
    return twin.id, "\n".join(lines)


def ask(page, question: str, ground: bool) -> dict:
    page.click("#new-chat")  # an empty conversation: both forms of a question start alike
    page.set_checked("#ground", ground)
    page.fill("#prompt", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
    done = json.loads(page.get_attribute("#stats", "data-done"))
    sources = page.evaluate(
        "() => { const next = document.querySelector('.turn.assistant').nextElementSibling;"
        " return next && next.classList.contains('sources') ? next.textContent : ''; }"
    )
    return {"first_token_s": done["first_token_s"], "tokens": done["tokens"], "sources": sources}


def run(rounds: int, out: Path, log=print) -> dict:
    from playwright.sync_api import sync_playwright

    from tabtwin.site.build import build
    from tabtwin.site.serve import make_server

    model_id, text = registry_text(ROOT)
    with tempfile.TemporaryDirectory(prefix="tabtwin-bench-grounding-") as tmp:
        work = Path(tmp)
        (work / "models.toml").write_text(text)
        build(ROOT, work / "site", work / "models.toml", log=lambda *_: None)
        server = make_server(work / "site", "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        turns = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless=new", *FLAGS])
                page = browser.new_page()
                load_s = load_model_in_page(page, f"{base}chat/", model_id)
                for r in range(rounds):
                    for i, question in enumerate(QUESTIONS):
                        order = (True, False) if (r + i) % 2 == 0 else (False, True)
                        for ground in order:
                            turn = {"round": r, "question": question, "grounded": ground, **ask(page, question, ground)}
                            turns.append(turn)
                            log(f"  {'on ' if ground else 'off'} {turn['first_token_s']:.3f} s  {question}")
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    on = [t["first_token_s"] for t in turns if t["grounded"]]
    off = [t["first_token_s"] for t in turns if not t["grounded"]]
    paired = [a["first_token_s"] - b["first_token_s"] for a, b in zip(turns[0::2], turns[1::2], strict=True)]
    paired = [d if turns[2 * k]["grounded"] else -d for k, d in enumerate(paired)]
    summary = {
        "model": model_id,
        "load_s": round(load_s, 3),
        "first_token_s": {
            "grounded": {"median": statistics.median(on), "min": min(on), "max": max(on)},
            "ungrounded": {"median": statistics.median(off), "min": min(off), "max": max(off)},
            "added_median": statistics.median(paired),
            "added_min": min(paired),
            "added_max": max(paired),
        },
        "rounds": rounds,
        "questions": list(QUESTIONS),
        "chromium": CHROMIUM,
        "turns": turns,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    f = summary["first_token_s"]
    log(
        f"{model_id}: time to first token grounded {f['grounded']['median']:.3f} s, ungrounded "
        f"{f['ungrounded']['median']:.3f} s (medians of {len(on)}); added by grounding: median "
        f"{f['added_median']:+.3f} s (min {f['added_min']:+.3f}, max {f['added_max']:+.3f}); wrote {out}"
    )
    return summary

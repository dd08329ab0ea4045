"""`tabtwin bench grounding`: what grounding costs a visitor, measured on the /chat page in Chromium.

The repository's default twin and its [grounding] table are built into a site and served on loopback;
one Chromium page loads the twin (the index and the embedder come with it), then asks each question
with grounding on and off (the page's own toggle), each in a new chat so that every turn starts from
the same empty conversation, in two ways: pasted (the whole question at once, then Enter) and typed
(a key every TYPE_DELAY_MS, then Enter), where the page feeds the prompt of the words so far while
they are typed (PREPARE). Read per turn from what the page shows (#stats[data-done]): the wait from
Enter to the first word as the page saw it (`waited_s`; it includes retrieving, embedding and
whatever prompt is left to read), the prompt tokens read after Enter, and the passages used. Prints
medians, the spread and the difference grounding makes, and writes JSON.
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


TYPE_DELAY_MS = 90  # a quick typist: about 11 keys a second
MODES = ("pasted", "typed")


def ask(page, question: str, ground: bool, mode: str) -> dict:
    page.click("#new-chat")  # an empty conversation: every form of a question starts alike
    page.set_checked("#ground", ground)
    if mode == "typed":
        page.type("#prompt", question, delay=TYPE_DELAY_MS)
    else:
        page.fill("#prompt", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=600_000)
    done = json.loads(page.get_attribute("#stats", "data-done"))
    sources = page.evaluate(
        "() => { const next = document.querySelector('.turn.assistant').nextElementSibling;"
        " return next && next.classList.contains('sources') ? next.textContent : ''; }"
    )
    return {
        "waited_s": done["waited_s"],
        "worker_first_token_s": done["first_token_s"],
        "prefill_tokens": done["prefill_tokens"],
        "tokens": done["tokens"],
        "sources": sources,
    }


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def by_mode(turns: list[dict], mode: str) -> dict:
    """Medians and spread for one way of asking; `added`: grounded minus ungrounded, paired per question and round."""
    mine = [t for t in turns if t["mode"] == mode]
    pairs = {}
    for t in mine:
        pairs.setdefault((t["round"], t["question"]), {})[t["grounded"]] = t
    added = [p[True]["waited_s"] - p[False]["waited_s"] for p in pairs.values()]
    return {
        "grounded": spread([t["waited_s"] for t in mine if t["grounded"]]),
        "ungrounded": spread([t["waited_s"] for t in mine if not t["grounded"]]),
        "added": spread(added),
        "prefill_tokens_grounded": statistics.median(t["prefill_tokens"] for t in mine if t["grounded"]),
        "prefill_tokens_ungrounded": statistics.median(t["prefill_tokens"] for t in mine if not t["grounded"]),
    }


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
                        # alternate which form goes first, so drift in the machine's load falls on both
                        order = [(g, m) for g in (True, False) for m in MODES]
                        for ground, mode in order if (r + i) % 2 == 0 else order[::-1]:
                            turn = {"round": r, "question": question, "grounded": ground, "mode": mode}
                            turn.update(ask(page, question, ground, mode))
                            turns.append(turn)
                            log(
                                f"  {'on ' if ground else 'off'} {mode:6} waited {turn['waited_s']:.3f} s, "
                                f"read {turn['prefill_tokens']} prompt tokens after Enter  {question}"
                            )
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    summary = {
        "model": model_id,
        "load_s": round(load_s, 3),
        "waited_s": {mode: by_mode(turns, mode) for mode in MODES},
        "type_delay_ms": TYPE_DELAY_MS,
        "rounds": rounds,
        "questions": list(QUESTIONS),
        "chromium": CHROMIUM,
        "turns": turns,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    for mode, f in summary["waited_s"].items():
        log(
            f"{model_id}, {mode}: Enter to first word grounded {f['grounded']['median']:.3f} s, ungrounded "
            f"{f['ungrounded']['median']:.3f} s (medians); added by grounding: median {f['added']['median']:+.3f} s "
            f"(min {f['added']['min']:+.3f}, max {f['added']['max']:+.3f}); prompt tokens read after Enter "
            f"{f['prefill_tokens_grounded']:.0f} grounded, {f['prefill_tokens_ungrounded']:.0f} ungrounded"
        )
    log(f"wrote {out}")
    return summary

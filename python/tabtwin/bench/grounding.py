"""`tabtwin bench grounding`: what grounding and the core's methods cost a visitor, measured on the
/chat page in Chromium.

The repository's default twin is built into two sites served on loopback: one whose [grounding]
table holds the passages alone ("plain"), one with the table as models.toml serves it ("served": the
answerability model and told_only of `wasm/core/src/grounding`). Each site loads in its own headless
Chromium (a fresh profile, so that each has a renderer of its own to measure); then every question is
asked three ways, in alternating order: ungrounded (the page's toggle off, plain site), grounded plain,
and grounded as served; each in a new chat, so that every turn starts from the same empty
conversation, and each pasted (the whole question at once, then Enter) and typed (a key every
TYPE_DELAY_MS, then Enter: the page feeds the prompt of the words so far while they are typed,
PREPARE). Read per turn from what the page shows (#stats[data-done]): the wait from Enter to the first
word as the page saw it (`waited_s`: retrieving, embedding, deciding and whatever prompt is left to
read), decode speed, the prompt tokens read after Enter, the passages used; per site, the renderer's
peak resident memory. Prints medians, the spread, and what grounding and then the methods add (paired
per question, round and way of asking), and writes JSON.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
from pathlib import Path

from tabtwin.bench.chromium import CHROMIUM, fresh_profile, load_model_in_page, renderer_peak_rss_mb

ROOT = Path(__file__).resolve().parents[3]
QUESTIONS = (
    "Which of your tools prints tide tables?",
    "ur hometown?",
    "What do you call your sourdough starter?",
    "Have you given a talk about maps?",
    "What is your blood type?",
)


def registry_text(root: Path, served: bool) -> tuple[str, str]:
    """A models.toml with the repository's default twin and its [grounding] table (paths absolute):
    the passages alone, or (`served`) with the core's methods as the repository serves them."""
    from tabtwin.site.registry import load, load_grounding

    twin = next(e for e in load(root / "models.toml") if e.default)
    grounding = load_grounding(root / "models.toml")
    table = f'[grounding]\nqa = "{grounding.qa.resolve()}"\n'
    if served and grounding.answerability is not None:
        table += f'answerability = "{grounding.answerability.resolve()}"\n'
    if served and grounding.told_only:
        table += "told_only = true\n"
    lines = [
        '[site]\ntarget = "unlimited"\n',
        f'[[model]]\nid = "{twin.id}"\nlabel = "{twin.label}"\nbase = "{twin.base}"\n'
        f'adapter = "{(root / twin.adapter).resolve()}"\ndefault = true\n',
        "[voice]\nenabled = false\n",
        table,
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
        "decode_tok_s": done["decode_tok_s"],
        "sources": sources,
    }


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


# Each way a question is asked: (site, grounding toggle). "ungrounded" asks the plain site with the
# page's toggle off; the served site with it off would be the same turn.
VARIANTS = {"ungrounded": ("plain", False), "plain": ("plain", True), "served": ("served", True)}


def paired(mine: list[dict], a: str, b: str, key: str) -> list[float]:
    """`key` of variant `a` minus that of `b`, per question and round (the same question asked both ways)."""
    pairs: dict = {}
    for t in mine:
        pairs.setdefault((t["round"], t["question"]), {})[t["variant"]] = t
    return [p[a][key] - p[b][key] for p in pairs.values() if p[a][key] is not None and p[b][key] is not None]


def by_mode(turns: list[dict], mode: str) -> dict:
    """Medians and spread for one way of asking, per variant; `grounding_adds`: grounded plain minus
    ungrounded, `methods_add`: served minus plain (the wait, and the decode speed as a ratio)."""
    mine = [t for t in turns if t["mode"] == mode]
    of = {v: [t for t in mine if t["variant"] == v] for v in VARIANTS}
    speed = {v: [t["decode_tok_s"] for t in of[v] if t["decode_tok_s"]] for v in VARIANTS}
    return {
        **{v: spread([t["waited_s"] for t in of[v]]) for v in VARIANTS},
        "grounding_adds": spread(paired(mine, "plain", "ungrounded", "waited_s")),
        "methods_add": spread(paired(mine, "served", "plain", "waited_s")),
        "decode_tok_s": {v: spread(speed[v]) for v in VARIANTS if speed[v]},
        "prefill_tokens": {v: statistics.median(t["prefill_tokens"] for t in of[v]) for v in VARIANTS},
    }


def built_sites(work: Path) -> tuple[str, dict]:
    """Build the plain and the served site under `work` and serve each on loopback: (model id, urls)."""
    from tabtwin.site.build import build
    from tabtwin.site.serve import make_server

    urls, servers = {}, []
    for name in ("plain", "served"):
        model_id, text = registry_text(ROOT, served=name == "served")
        (work / name).mkdir()
        (work / name / "models.toml").write_text(text)
        build(ROOT, work / name / "site", work / name / "models.toml", log=lambda *_: None)
        server = make_server(work / name / "site", "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_address[1]}/chat/"
    return model_id, urls, servers


def ask_all(pages: dict, rounds: int, log) -> list[dict]:
    turns = []
    for r in range(rounds):
        for i, question in enumerate(QUESTIONS):
            # alternate the order, so that drift in the machine's load falls on every variant alike
            order = [(v, m) for v in VARIANTS for m in MODES]
            for variant, mode in order if (r + i) % 2 == 0 else order[::-1]:
                site, ground = VARIANTS[variant]
                turn = {"round": r, "question": question, "variant": variant, "mode": mode}
                turn.update(ask(pages[site], question, ground, mode))
                turns.append(turn)
                log(
                    f"  {variant:10} {mode:6} waited {turn['waited_s']:.3f} s, read {turn['prefill_tokens']} "
                    f"prompt tokens after Enter  {question}"
                )
    return turns


def run(rounds: int, out: Path, log=print) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="tabtwin-bench-grounding-") as tmp:
        model_id, urls, servers = built_sites(Path(tmp))
        try:
            with sync_playwright() as p, fresh_profile(p) as plain, fresh_profile(p) as served:
                contexts = {"plain": plain, "served": served}
                pages = {name: ctx.new_page() for name, (ctx, _) in contexts.items()}
                load_s = {name: round(load_model_in_page(pages[name], urls[name], model_id), 3) for name in pages}
                turns = ask_all(pages, rounds, log)
                rss = {name: renderer_peak_rss_mb(profile) for name, (_, profile) in contexts.items()}
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()
    summary = {
        "model": model_id,
        "load_s": load_s,
        "renderer_peak_rss_mb": rss,
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
            f"{model_id}, {mode}: Enter to first word (medians) ungrounded {f['ungrounded']['median']:.3f} s, "
            f"grounded {f['plain']['median']:.3f} s, as served {f['served']['median']:.3f} s; grounding adds "
            f"{f['grounding_adds']['median']:+.3f} s, the methods {f['methods_add']['median']:+.3f} s "
            f"(min {f['methods_add']['min']:+.3f}, max {f['methods_add']['max']:+.3f})"
        )
    speeds = summary["waited_s"]["pasted"]["decode_tok_s"]
    log(
        "decode tok/s (pasted, medians): "
        + ", ".join(f"{v} {s['median']:.1f}" for v, s in speeds.items())
        + "; renderer peak RSS: "
        + ", ".join(f"{n} {mb} MB" for n, mb in rss.items())
    )
    log(f"wrote {out}")
    return summary

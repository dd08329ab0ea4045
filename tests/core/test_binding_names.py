"""The two bindings expose the same names (issue 33): a core call both offer is called the same in the page's
worker (`wasm/web`, read from its committed glue `site/static/wasm/tabtwin_web.js`) and in Python
(`tabtwin._core`, from `wasm/py`). DIFFERENCES is the one table of what only one binding has, or has in
another shape, and why; the check fails on a difference it does not list and on a row that is no longer
true, so the table cannot go stale. Fast tier: it reads names, it loads no model."""

import re
from pathlib import Path

from tabtwin import _core

ROOT = Path(__file__).resolve().parents[2]
WEB_GLUE = ROOT / "site" / "static" / "wasm" / "tabtwin_web.js"
MODULE = "_core"  # where module-level names (functions, constants, the classes themselves) live

# name -> (which binding has it: "web", "python", or "both" in another shape; why).
# A name is `Class.method`, `_core.function`, or `_core.Class` for a class only one binding has.
# `Class.constructor` is the web's `new Class(...)`, Python's `Class(...)`.
DIFFERENCES = {
    "Chat.start": (
        "web",
        "the page streams a reply a token per call so its worker can post each event and read a Stop "
        "in between; Python's whole-reply Chat.generate is the same core start + step loop",
    ),
    "Chat.step": ("web", "see Chat.start: Python gets each event through generate's on_event/on_text"),
    "Chat.stop": ("web", "the page's Stop between steps; in Python a callback returning False stops generate"),
    "Chat.generate": ("python", "one whole reply with callbacks (the core's generate): see Chat.start"),
    "_core.ModelBytes": (
        "web",
        "the page gets a model in downloaded pieces and assembles them in wasm memory, checking each "
        "shard's sha256; Python reads a whole file (from_path) or takes its bytes",
    ),
    "Chat.from_path": ("python", "the author's verbs load files from disk, errors naming the file"),
    "Grounding.from_path": ("python", "see Chat.from_path"),
    "Transcriber.from_path": ("python", "see Chat.from_path"),
    "Chat.system_prompt": (
        "python",
        "`tabtwin chat --system` and `tabtwin eval` of a run config try another system prompt than the "
        "GGUF's; the page always uses the twin's own",
    ),
    "Chat.set_system_prompt": ("python", "see Chat.system_prompt"),
    "Chat.context_limit": ("python", "tests read back the window set_context_limit made; the page only sets it"),
    "Chat.last_reply_raw": (
        "python",
        "`tabtwin eval` records the reply as written (thinking, TOOL lines); the page shows its events",
    ),
    "Chat.render": (
        "python",
        "tests and `tabtwin bench` hold prompts to the core's chat template; the page needs none",
    ),
    "Chat.encode": ("python", "the author's tools count tokens (eval, bench, tests); the page counts none"),
    "Chat.decode": ("python", "see Chat.encode"),
    "Chat.forget_cache": ("python", "a probe (the core's `probes` feature) for the KV-reuse tests; not in the page"),
    "Chat.logits": ("python", "a probe for the exactness tests and `tabtwin bench` agreement; not in the page"),
    "Chat.logits_stepwise": ("python", "see Chat.logits"),
    "Grounding.passages": (
        "both",
        "the page needs only how many passages (none: no grounding toggle); Python gets the passages "
        "themselves as dicts (`tabtwin data build`, `tabtwin eval`)",
    ),
    "Grounding.attach_embedder": ("both", "the page passes the embedder's ModelBytes, Python its GGUF's path"),
    "Grounding.rank": ("python", "`tabtwin eval` reports the best-scored passages; the page needs only ground"),
    "Grounding.fit_answerability": (
        "python",
        "`tabtwin grounding fit` fits the model the index then carries; the page uses what it carries",
    ),
    "Grounding.set_answerability": ("python", "`tabtwin eval` measures answerability models side by side"),
    "Grounding.answerability_json": ("python", "see Grounding.set_answerability"),
    "Grounding.told_only": (
        "python",
        "`tabtwin eval` measures the index's rules one at a time; the page runs as it says",
    ),
    "Grounding.set_told_only": ("python", "see Grounding.told_only"),
    "Grounding.nearest": ("python", "see Grounding.told_only"),
    "Grounding.set_nearest": ("python", "see Grounding.told_only"),
    "Grounding.contrast": ("python", "see Grounding.told_only"),
    "Grounding.set_contrast": ("python", "see Grounding.told_only"),
    "Grounding.embed": ("python", "tests compare the core's vectors with the reference's; the page embeds in ground"),
    "Transcriber.log_mel": ("python", "the Whisper exactness tests compare the encoder's features"),
    "_core.render_grounded_turn": (
        "python",
        "tests hold the training data's notes to the core's; the page's ground renders",
    ),
    "_core.grounding_limits": (
        "python",
        "`tabtwin eval` records the limits it ran with; the page's ground applies them",
    ),
    "_core.parse_reply": ("python", "`tabtwin eval` parses stored replies; the page gets the events from step"),
    "_core.END_OF_TURN_TOKENS": (
        "python",
        "keys.py and `tabtwin data build` take the core's; the page needs them in step",
    ),
    "_core.is_end_of_turn": ("python", "tests of the core's end-of-turn rule from Python"),
    "_core.refusal_openings": ("python", "tests of a twin's refusals list as the core reads it; the page gets refused"),
}

SIDES = {"web", "python", "both"}
# What wasm-bindgen writes into every class, not names of the binding (`free` releases the wasm memory).
WASM_BINDGEN_OWN = {"free"}


def web_names(glue: str) -> set[str]:
    """The names wasm-bindgen's glue exports: `export class X { name(...) {` and `export function name(`."""
    names = {f"{MODULE}.{f}" for f in re.findall(r"^export function (\w+)\(", glue, re.M)}
    for cls, body in re.findall(r"^export class (\w+) \{\n(.*?)^\}", glue, re.M | re.S):
        names.add(f"{MODULE}.{cls}")
        for method in re.findall(r"^    (?:static |get |set )?(\w+)\(", body, re.M):
            if not method.startswith("__") and method not in WASM_BINDGEN_OWN:
                names.add(f"{cls}.{method}")
    return names


def constructible(cls: type) -> bool:
    """Whether Python can call `cls(...)`: PyO3 gives a class the signature of its `#[new]`, and none without."""
    return cls.__text_signature__ is not None


def python_names(module) -> set[str]:
    names = set()
    for name in dir(module):
        if name.startswith("_"):
            continue
        names.add(f"{MODULE}.{name}")
        value = getattr(module, name)
        if isinstance(value, type):
            names |= {f"{name}.{m}" for m in dir(value) if not m.startswith("_")}
            if constructible(value):
                names.add(f"{name}.constructor")
    return names


def problems(web: set[str], python: set[str], table: dict = DIFFERENCES) -> list[str]:
    """What the table fails to say about the two sets of names: unlisted differences and untrue rows."""
    found = []
    # a class only one binding has is one row (`_core.Class`); its methods are not compared
    alone = {n.split(".")[1] for n in web ^ python if n.startswith(f"{MODULE}.")}
    for name in sorted(n for n in web | python if n.split(".")[0] not in alone):
        side = "both" if name in web and name in python else "web" if name in web else "python"
        if name not in table and side != "both":
            found.append(f"{name}: only the {side} binding has it; give Python the web's name or list why")
        elif name in table and table[name][0] != side:
            found.append(f"{name}: listed as {table[name][0]}, but it is {side}")
    for name, (side, why) in sorted(table.items()):
        if name not in web | python:
            found.append(f"{name}: listed, but neither binding has it")
        if side not in SIDES or not why:
            found.append(f"{name}: a row needs a side ({', '.join(sorted(SIDES))}) and a reason")
    return found


def test_the_glue_is_read_as_the_worker_uses_it():
    web = web_names(WEB_GLUE.read_text())
    # a few the worker calls, and none of wasm-bindgen's own
    assert {"Chat.refused", "Chat.prefill_tokens", "Chat.step", "Grounding.ground", "_core.with_simd128"} <= web
    assert not {n for n in web if n.endswith((".free", ".__destroy_into_raw"))}


def test_every_name_one_binding_has_alone_is_listed_with_why_and_every_row_is_true():
    assert problems(web_names(WEB_GLUE.read_text()), python_names(_core)) == []


def test_a_web_name_python_lacks_fails_the_check():
    glue = WEB_GLUE.read_text()
    assert "    refused() {" in glue
    renamed = web_names(glue.replace("    refused() {", "    was_refused() {"))
    assert problems(renamed, python_names(_core)) == [
        "Chat.refused: only the python binding has it; give Python the web's name or list why",
        "Chat.was_refused: only the web binding has it; give Python the web's name or list why",
    ]


def test_a_row_that_is_no_longer_true_fails_the_check():
    glue = WEB_GLUE.read_text()
    without_stop = web_names(glue.replace("    stop() {", "    halt() {"))
    assert "Chat.stop: listed, but neither binding has it" in problems(without_stop, python_names(_core))
    # a Python-only row for a call the web gained too
    gained = web_names(glue) | {"Chat.encode"}
    assert problems(gained, python_names(_core)) == ["Chat.encode: listed as python, but it is both"]


def test_a_row_needs_a_reason():
    table = {**DIFFERENCES, "Chat.start": ("web", "")}
    assert problems(web_names(WEB_GLUE.read_text()), python_names(_core), table) == [
        "Chat.start: a row needs a side (both, python, web) and a reason"
    ]

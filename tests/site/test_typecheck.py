"""The page's type check (scripts/typecheck/check.sh, run by the gates) holds the page and the worker
to the message types of protocol.js, to the models.json types generated from its schema, and the worker
to the wasm binding's API: a copy of the page's JS broken in each of those ways fails it, at the line
broken. The types generated from the
schema are what the schema gives (scripts/schema_types.py --check)."""

import importlib.util
import json
import shutil
import subprocess
import sys

import pytest


def check(root, js_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(root / "scripts/typecheck/check.sh"), str(js_dir)], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def copy(root, tmp_path):
    """site/static/js and site/schema copied as they sit (the JS names the types by a relative path)."""
    shutil.copytree(root / "site/static/js", tmp_path / "site/static/js")
    shutil.copytree(root / "site/schema", tmp_path / "site/schema")
    return tmp_path / "site"


def replace(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}: the test needs updating"
    path.write_text(text.replace(old, new))


def test_the_page_as_it_is_passes(root, copy):
    result = check(root, copy / "static/js")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "typecheck: ok" in result.stdout


# what, file, the text replaced, its replacement, the error tsc must report in that file
BREAKS = [
    ("the worker posts a DONE field protocol.js lacks", "worker.js", "    tokens,\n", "    tokenz: tokens,\n",
     "'tokenz' does not exist in type 'DoneReply'"),
    ("the worker handles LOAD as a request of another type", "worker.js", "[msg.LOAD]: load,",
     "[msg.LOAD]: transcribe,", "TranscribeRequest"),
    ("the page sends a PREPARE field protocol.js lacks", "chat.js", "{ prompt: typed, options:",
     "{ prompt: typed, option:", "'option' does not exist in type 'Omit<PrepareRequest, \"id\">'"),
    ("the page reads a READY field protocol.js lacks", "chat.js", "async ({ info, simd128, cached, passages })",
     "async ({ info, simd128, cached, passages, seconds })",
     "Property 'seconds' does not exist on type 'ReadyReply'"),
    ("the worker calls the core's binding by a name it lacks", "worker.js", "grounding ? grounding.passages() : null",
     "grounding ? grounding.passage_count() : null", "Property 'passage_count' does not exist on type 'Grounding'"),
    ("the worker passes the binding a value of another type", "worker.js", "chat.set_context_limit(CONTEXT_LIMIT);",
     "chat.set_context_limit(String(CONTEXT_LIMIT));", "not assignable to parameter of type 'number'"),
    ("the worker leaves a value untyped (noImplicitAny)", "worker.js", "function groundTurn(prompt) {",
     "function groundTurn(prompt, limits) {", "Parameter 'limits' implicitly has an 'any' type"),
    ("the page leaves a value untyped (noImplicitAny)", "markdown.js", "function blockNode(block, base) {",
     "function blockNode(block, base, depth) {", "Parameter 'depth' implicitly has an 'any' type"),
    ("the page reads a models.json field its schema lacks", "chat.js", "status(`Preparing ${model.label}…`);",
     "status(`Preparing ${model.title}…`);", "Property 'title' does not exist on type 'ChatModel'"),
]  # fmt: skip


def test_a_page_that_breaks_a_contract_fails(root, copy):
    """Every break at once (one run of tsc; they touch different lines): each must be reported."""
    for _, file, old, new, _ in BREAKS:
        replace(copy / "static/js" / file, old, new)
    result = check(root, copy / "static/js")
    assert result.returncode != 0
    errors = result.stdout.splitlines()
    missed = [what for what, file, _, _, error in BREAKS if not any(f"{file}(" in e and error in e for e in errors)]
    assert missed == [], result.stdout


def test_a_schema_without_a_field_the_page_reads_fails_the_page(root, copy):
    """The page's types are the schema's: drop `label` from the schema, generate the types again, and
    the page's uses of a model's label no longer check."""
    spec = importlib.util.spec_from_file_location("schema_types", root / "scripts/schema_types.py")
    schema_types = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(schema_types)
    schema_path = copy / "schema/models.schema.json"
    schema = json.loads(schema_path.read_text())
    model_file = schema["$defs"]["ModelFile"]
    del model_file["properties"]["label"]
    model_file["required"].remove("label")
    schema_path.write_text(json.dumps(schema))
    (copy / "schema/models.d.ts").write_text(schema_types.declarations(schema_path))
    result = check(root, copy / "static/js")
    assert result.returncode != 0
    assert "chat.js(" in result.stdout and "Property 'label' does not exist on type 'ChatModel'" in result.stdout


def test_the_generated_types_are_what_the_schema_gives(root):
    result = subprocess.run(
        [sys.executable, str(root / "scripts/schema_types.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr

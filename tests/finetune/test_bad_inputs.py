"""Malformed run configs, persona JSONL and built JSONL: each named with its file, line and key, a
clean exit 2 from the CLI, nothing relaxed (issue #18). Fast tier: no base model is loaded, the
problems are all found before one would be."""

import json

import pytest
from finetune_helpers import SYSTEM_PROMPT, write_persona

from tabtwin.cli import main
from tabtwin.finetune.config import ConfigError, load
from tabtwin.finetune.data import DataError, read_examples, split

GOOD = (
    f"[system]\nprompt = {json.dumps(SYSTEM_PROMPT)}\n\n"  # lines 1-2
    '[data]\npersona = "persona"\nholdout = 0.3\n\n'  # lines 4-6
    '[train]\nbase = "smollm2-135m-instruct"\nepochs = 2\n\n'  # lines 8-10
    '[export]\npersona = "Ada Example"\n'  # lines 12-13
)

# (case, config text or a kind of path, line, words)
CONFIG_CASES = [
    ("toml syntax", GOOD + "[eval]\nmax_tokens = \n", 15, ["not valid TOML"]),
    ("typo in a key", GOOD.replace("epochs = 2", "epoch = 2"), 10, ["[train]", "'epoch'", "did you mean 'epochs'"]),
    ("typo in a section", GOOD + "[evals]\nlimit = 3\n", 14, ["'evals'", "did you mean 'eval'"]),
    ("typo in [system]", GOOD.replace("prompt =", "promt =", 1), 2, ["[system]", "'promt'", "did you mean 'prompt'"]),
    ("a section that is a value", "eval = 3\n" + GOOD, 1, ["'eval' must be a section"]),
    ("prompt missing", GOOD.replace(f"prompt = {json.dumps(SYSTEM_PROMPT)}\n", ""), 1, ["[system] prompt"]),
    ("prompt a number", GOOD.replace(json.dumps(SYSTEM_PROMPT), "3"), 2, ["[system] prompt", "string"]),
    ("base missing", GOOD.replace('base = "smollm2-135m-instruct"\n', ""), 8, ["[train] needs base"]),
    ("an integer as a string", GOOD.replace("epochs = 2", 'epochs = "2"'), 10, ["[train] epochs", "number"]),
    ("a float for an integer", GOOD.replace("epochs = 2", "epochs = 2.5"), 10, ["[train] epochs", "integer"]),
    ("a bool for a number", GOOD.replace("holdout = 0.3", "holdout = true"), 6, ["[data] holdout", "number"]),
    ("a number for a path", GOOD.replace('persona = "persona"', "persona = 3"), 5, ["[data] persona", "path"]),
    ("a string for a list", GOOD.replace("holdout = 0.3", 'apps = "books"'), 6, ["[data] apps", "list of strings"]),
    ("a number for a flag", GOOD + "ollama = 1\n", 14, ["[export] ollama", "true or false"]),
    ("a flag as a string", GOOD.replace("epochs = 2", 'packing = "yes"'), 10, ["[train] packing", "true or false"]),
    ("sampling typo", GOOD + "sampling = { temprature = 0.5 }\n", 14, ["sampling.temprature", "temperature"]),
    ("a value out of range", GOOD.replace("holdout = 0.3", "holdout = 1.5"), 6, ["[data] holdout", "[0, 1)"]),
    ("an unknown choice", GOOD.replace("epochs = 2", 'schedule = "linear"'), 10, ["[train] schedule"]),
    (
        "not UTF-8",
        GOOD.replace('persona = "Ada Example"', 'persona = "Ad\udce9"').encode("utf-8", "surrogateescape"),
        13,
        ["not UTF-8"],
    ),
    ("no such file", "missing", None, ["no such file"]),
    ("a folder", "folder", None, ["is a folder"]),
]


@pytest.mark.parametrize("case, spec, line, words", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_a_malformed_run_config_is_named_with_its_line_and_key(tmp_path, capsys, case, spec, line, words):
    write_persona(tmp_path / "persona")
    path = tmp_path / "twin.toml"
    if spec == "folder":
        path.mkdir()
    elif spec != "missing":
        path.write_bytes(spec if isinstance(spec, bytes) else spec.encode())
    with pytest.raises(ConfigError) as err:
        load(path)
    message = str(err.value)
    assert (f"{path}:{line}:" if line else f"{path}:") in message, message
    for word in words:
        assert word in message, message
    assert main(["data", "build", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tabtwin: error: ") and "Traceback" not in err and message in err


# (case, file, the line written as line 2, message start: the file's name and line)
SEED = {"q": ["Where do you live?"], "a": ["Lisbon."], "kind": "fact"}
PERSONA_CASES = [
    ("not JSON", "seeds.jsonl", b'{"q": ["x?"], "a": [\n', "seeds.jsonl:2: malformed JSON"),
    ("not an object", "seeds.jsonl", b'["x?", "y"]\n', "seeds.jsonl:2: expected a JSON object, got list"),
    ("a string", "seeds.jsonl", b'"x?"\n', "seeds.jsonl:2: expected a JSON object, got str"),
    ("an empty object", "seeds.jsonl", b"{}\n", 'seeds.jsonl:2: "q" must be'),
    ("q a number", "seeds.jsonl", b'{"q": 3, "a": ["y"]}\n', 'seeds.jsonl:2: "q" must be'),
    ("a with a number", "seeds.jsonl", b'{"q": ["x?"], "a": ["y", 3]}\n', 'seeds.jsonl:2: "a" must be'),
    ("think a list", "seeds.jsonl", b'{"q": ["x?"], "a": ["y"], "think": ["t"]}\n', 'seeds.jsonl:2: "think" must be'),
    ("tool a string", "seeds.jsonl", b'{"q": ["x?"], "a": ["y"], "tool": "books"}\n', "seeds.jsonl:2: a tool must be"),
    ("kind a number", "seeds.jsonl", b'{"q": ["x?"], "a": ["y"], "kind": 3}\n', "seeds.jsonl:2: kind 3 is not one of"),
    ("key typo", "seeds.jsonl", b'{"q": ["x?"], "a": ["y"], "knd": "fact"}\n', "seeds.jsonl:2: unknown key(s) ['knd']"),
    ("not UTF-8", "seeds.jsonl", b'{"q": ["caf\xe9?"], "a": ["y"]}\n', "seeds.jsonl:2: not UTF-8"),
    ("messages a string", "conversations.jsonl", b'{"messages": "hi"}\n', 'conversations.jsonl:2: "messages" must be'),
    (
        "content a number",
        "conversations.jsonl",
        b'{"messages": [{"role": "user", "content": 3}]}\n',
        "conversations.jsonl:2: message 1 must be",
    ),
    (
        "role a number",
        "conversations.jsonl",
        b'{"messages": [{"role": 1, "content": "x"}, {"role": "assistant", "content": "y"}]}\n',
        "conversations.jsonl:2: message 1 has role 1",
    ),
    (
        "kind a list",
        "conversations.jsonl",
        b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "kind": []}\n',
        'conversations.jsonl:2: "kind" must be a string',
    ),
    ("an array line", "conversations.jsonl", b"[]\n", "conversations.jsonl:2: expected a JSON object"),
]


@pytest.mark.parametrize("case, name, line, message", PERSONA_CASES, ids=[c[0] for c in PERSONA_CASES])
def test_a_malformed_persona_line_is_named_with_its_file_and_line(tmp_path, case, name, line, message):
    persona = write_persona(tmp_path / "persona")
    target = persona / name
    lines = target.read_bytes().splitlines(keepends=True)
    target.write_bytes(lines[0] + line + b"".join(lines[1:]))
    with pytest.raises(DataError) as err:
        split(load(config(tmp_path)))
    assert any(p.startswith(message) for p in err.value.problems), err.value.problems


def config(tmp_path):
    path = tmp_path / "twin.toml"
    path.write_text(GOOD)
    return path


@pytest.mark.parametrize("name", ["seeds.jsonl", "conversations.jsonl"])
@pytest.mark.parametrize("spec, says", [("empty", "the file is empty"), ("folder", "is a folder")])
def test_an_empty_or_folder_source_is_refused_not_skipped(tmp_path, name, spec, says):
    """An empty seeds.jsonl (a failed export) or a folder in a file's place is a problem, never
    silently fewer examples."""
    persona = write_persona(tmp_path / "persona")
    (persona / name).unlink()
    if spec == "folder":
        (persona / name).mkdir()
    else:
        (persona / name).write_text("\n")
    with pytest.raises(DataError) as err:
        split(load(config(tmp_path)))
    assert any(p.startswith(name) and says in p for p in err.value.problems), err.value.problems


EXAMPLE = {
    "messages": [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
    ],
    "kind": "fact",
    "source": "seeds",
    "where": "seeds.jsonl:1",
}
BUILT_CASES = [
    ("not JSON", b"{oops\n", ["malformed JSON"]),
    ("not an object", b"[1]\n", ["expected a JSON object"]),
    (
        "messages missing",
        json.dumps({k: v for k, v in EXAMPLE.items() if k != "messages"}).encode() + b"\n",
        ["'messages'"],
    ),
    ("kind a number", json.dumps({**EXAMPLE, "kind": 3}).encode() + b"\n", ["'kind'", "str"]),
    ("unknown key", json.dumps({**EXAMPLE, "knd": "x"}).encode() + b"\n", ["'knd'", "did you mean 'kind'"]),
    (
        "message content a list",
        json.dumps({**EXAMPLE, "messages": [{"role": "user", "content": []}]}).encode() + b"\n",
        ["message 1"],
    ),
    ("accept with a number", json.dumps({**EXAMPLE, "accept": ["a", 1]}).encode() + b"\n", ["'accept'"]),
    ("not UTF-8", json.dumps({**EXAMPLE, "kind": "caf"}).encode().replace(b"caf", b"caf\xe9") + b"\n", ["not UTF-8"]),
]


@pytest.mark.parametrize("case, line, words", BUILT_CASES, ids=[c[0] for c in BUILT_CASES])
def test_a_malformed_built_example_is_named_with_its_line(tmp_path, case, line, words):
    path = tmp_path / "train.jsonl"
    path.write_bytes(json.dumps(EXAMPLE).encode() + b"\n" + line)
    with pytest.raises(DataError) as err:
        read_examples(path)
    message = str(err.value)
    assert f"{path}:2:" in message, message
    for word in words:
        assert word in message, message


def test_a_built_file_that_is_a_folder_or_missing_is_named(tmp_path):
    (tmp_path / "train.jsonl").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        read_examples(tmp_path / "train.jsonl")
    with pytest.raises(Exception, match="not built yet"):
        read_examples(tmp_path / "holdout.jsonl")
    (tmp_path / "holdout.jsonl").write_text("")
    assert read_examples(tmp_path / "holdout.jsonl") == [], "an empty holdout ([data] holdout = 0) is allowed"

"""Malformed `tabtwin chat --history` files: one line naming the file, the line of the message and
the key, exit 2, the file left as it was (issue #18). Fast tier: the tiny GGUF."""

import pytest

from tabtwin.cli import main

USER = '{"role": "user", "content": "hi"}'
ASSISTANT = '{"role": "assistant", "content": "hello"}'

# (case, file bytes or a kind of path, line, words)
CASES = [
    ("not JSON", f"[{USER},\n {ASSISTANT}\n".encode(), 3, ["not a JSON history"]),
    ("empty", b"", 1, ["not a JSON history"]),
    ("not a list", b'{"turns": []}', 1, ["JSON list"]),
    ("a message that is a string", f'[\n  {USER},\n  "hello"\n]'.encode(), 3, ["message 2", "'role'"]),
    ("content a number", b'[\n  {"role": "user", "content": 3}\n]', 2, ["message 1", "'content'", "string"]),
    ("role missing", b'[\n  {"content": "hi"}\n]', 2, ["message 1", "'role'"]),
    (
        "a key typo",
        f'[\n  {USER},\n  {{"role": "assistant", "contnet": "x"}}\n]'.encode(),
        3,
        ["'contnet'", "did you mean 'content'"],
    ),
    ("a system message", b'[{"role": "system", "content": "be nice"}]', 1, ["message 1", "system message"]),
    ("turns out of order", f"[\n{USER},\n{USER}\n]".encode(), 3, ["message 2", "should be 'assistant'"]),
    ("not UTF-8", b'[\n  {"role": "user", "content": "caf\xe9"}\n]', 2, ["not UTF-8"]),
    ("a folder", "folder", None, ["is a folder"]),
]


@pytest.mark.parametrize("case, spec, line, words", CASES, ids=[c[0] for c in CASES])
def test_a_malformed_history_is_named_with_its_line_and_key(tiny_gguf, tmp_path, capsys, case, spec, line, words):
    path = tmp_path / "chat.json"
    if spec == "folder":
        path.mkdir()
    else:
        path.write_bytes(spec)
    assert main(["chat", str(tiny_gguf), "--history", str(path), "--prompt", "Hi", "--max-tokens", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tabtwin: error: ") and "Traceback" not in err, err
    assert (f"{path}:{line}:" if line else f"{path}:") in err, err
    for word in words:
        assert word in err, err
    assert spec == "folder" or path.read_bytes() == spec, "a refused history is left as it was"


def test_a_missing_history_starts_a_new_conversation(tiny_gguf, tmp_path, capsys):
    path = tmp_path / "new" / "chat.json"
    assert main(["chat", str(tiny_gguf), "--history", str(path), "--prompt", "Hi", "--max-tokens", "2"]) == 0
    assert path.is_file() and not list(path.parent.glob(".*.part")), "written whole, no temporary file left"

"""Eval: the scorer's rules, and an end-to-end run of the exported twin in the native core that
writes the JSON + markdown report with the replies the core really gives."""
from __future__ import annotations

import json

from finetune_helpers import SYSTEM_PROMPT
from tabtwin import cli
from tabtwin._core import Chat
from tabtwin.data import load
from tabtwin.evaluate import f1, parse_answer, score
from tabtwin.export import export


def quiet(*_):
    pass


def test_parse_answer_splits_thought_text_and_tool_like_the_core():
    parsed = parse_answer('<think>They want books.</think>\nMy shelf:\nTOOL {"app":"books","params":{"tag":"sf"}}')
    assert parsed == {"thinking": "They want books.", "text": "My shelf:",
                      "tools": [{"app": "books", "params": {"tag": "sf"}}]}
    assert parse_answer("TOOL is a word here")["tools"] == []


def test_score_rules():
    expected = [parse_answer('Here they are.\nTOOL {"app":"projects","params":{"tag":"rust"}}')]
    perfect = {"text": "Here they are!", "tools": [{"app": "projects", "params": {"tag": "rust"}}]}
    assert score(perfect, expected, "end_of_turn") == {
        "exact": True, "contains": True, "f1": 1.0, "tool_expected": True, "tool": True, "tool_app": True,
        "stop": True}
    wrong_params = {"text": "Sure, here they are. Enjoy", "tools": [{"app": "projects", "params": {}}]}
    s = score(wrong_params, expected, "max_tokens")
    assert (s["exact"], s["contains"], s["tool"], s["tool_app"], s["stop"]) == (False, True, False, True, False)
    stray = score({"text": "Paris.", "tools": [{"app": "books", "params": {}}]}, [parse_answer("Paris.")], None)
    assert stray["exact"] and not stray["tool"]
    assert abs(f1("I live in Lisbon", "Lisbon is where I live") - 2 / 3) < 1e-9  # P 3/4, R 3/5


def test_eval_writes_the_report_with_the_cores_own_answers(trained, tmp_path, capsys):
    cfg = load(trained.path)
    cfg.export.output = tmp_path / "twin.gguf"
    export(cfg, verify=False, log=quiet)
    canaries = tmp_path / "canaries.jsonl"
    canaries.write_text(json.dumps({"q": ["What is your name?", "Who are you?"], "a": ["Ada Example."],
                                    "kind": "fact"}) + "\n")
    config = tmp_path / "eval.toml"
    config.write_text(cfg.path.read_text().replace("[eval]\n", f"[eval]\ncanaries = {json.dumps(str(canaries))}\n"))
    assert cli.main(["eval", str(config), "--gguf", str(cfg.export.output)]) == 0
    assert "twin: exact" in capsys.readouterr().out

    report = json.loads((tmp_path / "twin.eval.json").read_text())
    holdout = (cfg.data_dir / "holdout.jsonl").read_text().splitlines()
    assert report["examples"] == len(report["rows"]) == len(holdout) + 2
    assert [r["question"] for r in report["rows"] if r["kind"] == "canaries/fact"] == ["What is your name?",
                                                                                      "Who are you?"]
    summary = report["summary"]["twin"]["all"]
    assert summary["n"] == len(holdout) + 2
    for key in ("exact", "contains", "f1", "clean_stop"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["tool_accuracy"] is not None  # the holdout holds a tool question
    assert sum(1 for r in report["rows"] if r["twin"]["tool_expected"]) >= 1

    # the recorded reply is what the core answers (greedy, the twin's system prompt)
    chat = Chat.from_path(cfg.export.output)
    assert chat.system_prompt == SYSTEM_PROMPT
    row = report["rows"][0]
    chat.generate(row["question"], max_tokens=cfg.eval.max_tokens)
    assert chat.last_reply_raw() == row["twin"]["reply"]

    markdown = (tmp_path / "twin.eval.md").read_text()
    assert "| exact |" in markdown and "| clean stop |" in markdown and row["question"] in markdown

"""The README's truthfulness table is generated from the committed evaluations: a number typed
there, or an evaluation committed without regenerating it, fails here."""

from __future__ import annotations

import json

from tabtwin.finetune import truthful_table


def test_the_readme_table_is_the_one_the_committed_evaluations_give(root):
    text = (root / "README.md").read_text(encoding="utf-8")
    assert truthful_table.block(root / "finetune/twins") in text, (
        "regenerate it: python -m tabtwin.finetune.truthful_table README.md"
    )


def test_each_run_of_each_split_is_a_row_and_a_missing_rate_is_a_dash(tmp_path):
    rate = {"value": 0.5, "passed": 1, "n": 2}
    summary = {"twin+grounding": {"rubric": {"recall_canaries": rate}}, "twin+grounding:none": {"rubric": {}}}
    (tmp_path / "ada-smollm2-135m.sealed.eval.json").write_text(json.dumps({"summary": summary, "sealed": True}))
    (tmp_path / "ada-qwen2.5-0.5b.eval.json").write_text(json.dumps({"summary": summary}))  # before the methods
    lines = truthful_table.table(tmp_path).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| ada-smollm2-135m | sealed | grounded, no method | - |")
    assert lines[3].startswith("| ada-smollm2-135m | sealed | **as served** | 50% (1/2) | - |")
    once = truthful_table.replace_block(f"a\n{truthful_table.START}\nold\n{truthful_table.END}\nb\n", tmp_path)
    assert once == truthful_table.replace_block(once, tmp_path) and once.startswith("a\n") and once.endswith("b\n")


def test_the_readme_shows_the_sealed_canaries_and_a_log_both_splits(tmp_path):
    rate = {"value": 1.0, "passed": 2, "n": 2}
    summary = {"twin+grounding": {"rubric": {"recall_canaries": rate}}}
    for name, sealed in (("ada-smollm2-135m.eval.json", False), ("ada-smollm2-135m.sealed.eval.json", True)):
        (tmp_path / name).write_text(json.dumps({"summary": summary, "sealed": sealed}))
    start, end = truthful_table.markers("truthful-all")
    text = f"{truthful_table.START}\n{truthful_table.END}\n{start}\n{end}\n"
    readme_block, log_block = truthful_table.replace_block(text, tmp_path).split(truthful_table.END)
    assert "| tuning |" not in readme_block and "| sealed |" in readme_block
    assert "| tuning |" in log_block and "| sealed |" in log_block

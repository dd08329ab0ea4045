"""`tabtwin bench browser`'s arithmetic and writing, without a browser: medians and spreads, paired
ratios, the table and the README section rebuilt from JSON, the bandwidth bound, the CLI's verbs.
Made-up figures stand in for measurements; nothing here times anything."""

from __future__ import annotations

import json

import pytest

from tabtwin.bench import bandwidth, report
from tabtwin.bench.models import model_id
from tabtwin.cli import main, with_bench_verb
from tabtwin.errors import TabtwinError


def a_run(load, decodes, first_tokens, rss, reload=1.0):
    return {
        "load_s": load,
        "rss_peak_mb": rss,
        "reload_first_token_s": reload,
        "generations": [
            {"decode_tok_s": d, "first_token_s": f, "bound_fraction": d / 100, "tokens": 128}
            for d, f in zip(decodes, first_tokens)
        ],
    }


def a_report() -> dict:
    runs = {
        "tabtwin": [a_run(4.0, [20.0, 22.0], [1.0, 0.5], 800.0), a_run(6.0, [18.0, 24.0], [2.0, 0.5], 820.0)],
        "wllama": [a_run(5.0, [10.0, 11.0], [3.0, 3.0], 500.0), a_run(5.0, [10.0, 12.0], [4.0, 2.0], 520.0)],
    }
    return {
        "date": "2026-11-30",
        "machine": {"cpu": "Test CPU", "cores": 2, "loadavg_start": 0.5},
        "browser": {"user_agent": "Mozilla/5.0 HeadlessChrome/156.0.0.0 Safari/537.36"},
        "settings": {"runs": 2, "generations": 2, "max_tokens": 128},
        "tabtwin": {"wasm": {"sha256": "ab" * 32, "source": "site/static/wasm, committed"}},
        "wllama": {"name": "@wllama/wllama", "version": "3.8.1"},
        "bandwidth": {"gb_s": 20.0, "samples": [18.0, 20.0]},
        "models": [{"id": "tiny.q8_0", "file_mb": 145.2, "prompt_tokens": 38, "runs": runs}],
    }


def test_spread_is_median_min_max_of_what_was_measured():
    assert report.spread([3.0, None, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert report.spread([None]) is None
    assert report.spread([]) is None


def test_samples_are_per_generation_or_per_run():
    runs = a_report()["models"][0]["runs"]["tabtwin"]
    decode = next(m for m in report.METRICS if m.key == "decode_tok_s")
    load = next(m for m in report.METRICS if m.key == "load_s")
    assert report.samples(runs, decode) == [20.0, 22.0, 18.0, 24.0]
    assert report.samples(runs, load) == [4.0, 6.0]


def test_ratios_pair_samples_and_skip_what_is_missing():
    assert report.paired_ratios([20.0, 22.0, None, 9.0], [10.0, 11.0, 5.0, 0.0]) == [2.0, 2.0]


def test_summary_gives_both_runtimes_and_the_paired_ratio():
    summary = report.summarize(a_report()["models"][0]["runs"])
    assert set(summary) == {m.key for m in report.METRICS}
    decode = summary["decode_tok_s"]
    assert decode["tabtwin"] == {"median": 21.0, "min": 18.0, "max": 24.0, "n": 4}
    assert decode["wllama"]["median"] == 10.5
    assert decode["ratio"] == {"median": 2.0, "min": 1.8, "max": 2.0, "n": 4}
    assert summary["load_s"]["ratio"] == {"median": 1.0, "min": 0.8, "max": 1.2, "n": 2}


def test_a_runtime_without_runs_leaves_dashes_not_errors():
    runs = a_report()["models"][0]["runs"]
    summary = report.summarize({"tabtwin": runs["tabtwin"]})
    assert summary["decode_tok_s"]["wllama"] is None and summary["decode_tok_s"]["ratio"] is None
    assert report.cell(None, 1) == "-"


def test_cells_show_median_then_range_once_there_is_a_spread():
    assert report.cell({"median": 2.0, "min": 1.0, "max": 3.5, "n": 3}, 1) == "2.0 (1.0-3.5)"
    assert report.cell({"median": 2.0, "min": 2.0, "max": 2.0, "n": 1}, 2, "x") == "2.00x"


def test_table_and_markdown_hold_every_metric_of_every_model():
    r = a_report()
    text = report.table(r)
    assert text.splitlines()[0].split() == ["model", "metric", "tabtwin", "wllama", "tabtwin/wllama"]
    assert "tiny.q8_0 (145 MB)" in text
    assert "21.0 (18.0-24.0)" in text and "2.00x (1.80-2.00)" in text
    section = report.markdown(r)
    table_rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(table_rows) == 2 + len(report.METRICS)  # the header and its rule, then one row a metric
    assert "| renderer peak RSS (MB) | 810 (800-820) | 510 (500-520) | 1.59x (1.58-1.60) |" in section
    words = " ".join(section.split())  # the caption is wrapped
    assert "2 runs x 2 generations" in words and "38-token" in words and "156.0.0.0" in words


def test_readme_section_is_replaced_between_the_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{report.START}\nold figures\n{report.END}\nafter\n")
    results = tmp_path / "browser.json"
    results.write_text(json.dumps(a_report()))
    report.write_readme(results, readme)
    once = readme.read_text()
    assert once.startswith("# Title\n\nbefore\n" + report.START + "\n")
    assert once.endswith(report.END + "\nafter\n")
    assert "old figures" not in once and "| decode (tok/s) |" in once
    report.write_readme(results, readme)
    assert readme.read_text() == once  # regenerating from the same JSON changes nothing


def test_a_readme_without_markers_or_missing_results_is_one_clear_error(tmp_path):
    with pytest.raises(TabtwinError, match="bench:browser:start"):
        report.replace_section("no markers here", "x")
    with pytest.raises(TabtwinError, match="no results yet"):
        report.write_readme(tmp_path / "missing.json", tmp_path / "README.md")


def test_the_cli_rewrites_the_readme_from_json(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"{report.START}\n{report.END}\n")
    results = tmp_path / "browser.json"
    results.write_text(json.dumps(a_report()))
    assert main(["bench", "browser", "--readme", str(readme), "--out", str(results)]) == 0
    assert "| tiny.q8_0 (145 MB) | load, first visit (s) |" in readme.read_text()
    assert main(["bench", "browser", "--readme", str(readme), "--out", str(tmp_path / "none.json")]) == 2
    assert "no results yet" in capsys.readouterr().err


def test_bench_without_a_sub_verb_is_still_the_native_benchmark():
    assert with_bench_verb(["bench"]) == ["bench", "native"]
    assert with_bench_verb(["bench", "model.gguf", "--no-browser"]) == ["bench", "native", "model.gguf", "--no-browser"]
    assert with_bench_verb(["bench", "--max-tokens", "8"]) == ["bench", "native", "--max-tokens", "8"]
    assert with_bench_verb(["bench", "browser", "--runs", "1"]) == ["bench", "browser", "--runs", "1"]
    assert with_bench_verb(["bench", "--help"]) == ["bench", "--help"]
    assert with_bench_verb(["inspect", "bench"]) == ["inspect", "bench"]


def test_weights_read_per_token_count_the_tied_embeddings_once():
    untied = {"token_embd.weight": 100, "output.weight": 100, "blk.0.ffn_up.weight": 40, "output_norm.weight": 1}
    tied = {k: v for k, v in untied.items() if k != "output.weight"}
    assert bandwidth.weight_bytes_per_token(untied) == 141  # the lookup reads one row: not counted
    assert bandwidth.weight_bytes_per_token(tied) == 141  # the embeddings are the output projection
    assert bandwidth.bound_tok_s(20.0, 200_000_000) == 100.0
    assert bandwidth.bound_tok_s(None, 200) is None


def test_weights_per_token_from_a_gguf(tiny_gguf):
    sizes = bandwidth.tensor_bytes(tiny_gguf)
    assert "output.weight" not in sizes  # the tiny llama ties its output to its embeddings
    assert bandwidth.weight_bytes_per_token(sizes) == sum(sizes.values())


def test_model_ids_come_from_file_names(tmp_path):
    assert model_id(tmp_path / "smollm2-135m-instruct.q8_0.r3.gguf") == "smollm2-135m-instruct.q8_0"
    assert model_id(tmp_path / "My Model (v2).gguf") == "my-model--v2"


def test_the_chart_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    from tabtwin.bench.chart import write_chart

    path = write_chart(a_report(), tmp_path / "browser.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wasm_option_serves_another_build_of_the_core(tiny_gguf, tmp_path, root):
    import hashlib
    import shutil
    import urllib.request

    from tabtwin.bench.site import served_site

    other = tmp_path / "older-wasm"
    shutil.copytree(root / "site" / "static" / "wasm", other)
    (other / "tabtwin_web_bg.wasm").write_bytes(b"\0asm\1\0\0\0 an older build")
    digest = hashlib.sha256((other / "tabtwin_web_bg.wasm").read_bytes()).hexdigest()[:12]
    with served_site({"tiny": tiny_gguf}, wasm=other) as (base, site):
        (staged,) = (site / "static" / "wasm").glob("*.wasm")
        assert staged.name == f"tabtwin_web_bg.{digest}.wasm"
        assert urllib.request.urlopen(f"{base}models.json").status == 200
    (other / "tabtwin_web.js").unlink()
    with pytest.raises(TabtwinError, match="missing tabtwin_web.js"), served_site({"tiny": tiny_gguf}, wasm=other):
        pass


def test_the_voice_section_is_rewritten_from_the_json(tmp_path):
    from tabtwin.bench import voice

    row = {b: {"clips": 2, "audio_s": 1.0, "wer": 0.125, "rtf": 0.456} for b in ("1s", "2s", "5s", "10s", "all")}
    results = tmp_path / "voice.json"
    results.write_text(json.dumps({"summary": {"tabtwin native, window fitted": row}}))
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:voice:start -->\nold\n<!-- bench:voice:end -->\nafter\n")
    voice.write_readme(results, readme)
    text = readme.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("<!-- bench:voice:end -->\nafter\n")
    assert "| tabtwin native, window fitted | 0.46 | 0.46 | 0.46 | 0.46 | 12.5% (2 clips) |" in text
    other = tmp_path / "other.md"
    other.write_text("no markers here\n")
    with pytest.raises(TabtwinError, match="bench:voice:start"):
        voice.write_readme(results, other)

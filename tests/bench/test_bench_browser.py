"""`tabtwin bench browser` end to end on the tiny random llama, one run of one short reply: both runtimes
load the file in Chromium, answer with tokens, reload from their own caches, and the figures land in the
JSON, the chart and the README section. What the figures are is not asserted (measurements)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser


def test_both_runtimes_load_answer_and_reload(tiny_gguf, tmp_path):
    from tabtwin.bench import browser, report

    settings = browser.Settings(runs=1, generations=1, max_tokens=8, reload_tokens=2)
    out = tmp_path / "browser.json"
    browser.run([tiny_gguf], settings, out, log=lambda *_: None)
    results = json.loads(out.read_text())
    (model,) = results["models"]
    assert model["prompt_tokens_wllama"] == [model["prompt_tokens"]]  # the same prompt for both
    for runtime in report.RUNTIMES:
        (run,) = model["runs"][runtime]
        (generation,) = run["generations"]
        assert generation["tokens"] > 0, (runtime, generation)
        assert generation["first_token_s"] > 0
        assert run["load_s"] > 0 and run["reload_first_token_s"] > 0 and run["rss_peak_mb"] > 0
    assert model["runs"]["tabtwin"][0]["cached"] is False and model["runs"]["tabtwin"][0]["reload_cached"] is True
    assert model["runs"]["wllama"][0]["threads"] == 1
    assert results["bandwidth"]["gb_s"] > 0
    assert out.with_suffix(".png").is_file()
    assert "| tiny-llama (" in report.markdown(results)

"""Answers of earlier evaluations, kept under everything that decided them, so that `tabtwin eval`
asks again only what could come out differently: after a site edit only the grounded questions
whose notes changed, after a new canary only that canary, after an interrupted run only what it
had not reached.

An answer is greedy and deterministic: the same model file, native core, system prompt, decoding,
history and prompt text (the notes included, when grounded) give the same reply, so the key is the
sha256 of exactly those. One JSON line per answer in `<cache>/eval-answers/<model sha256>.jsonl`,
appended as answers arrive; a run killed mid-line leaves a last line that does not parse, which is
skipped (that answer is asked again)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from tabtwin.paths import cache_dir, sha256_file, sha256_json


@cache
def core_sha256() -> str:
    """The native core this process answers with: another build may answer differently."""
    import tabtwin._core

    return sha256_file(tabtwin._core.__file__)


class AnswerCache:
    def __init__(self, model_sha256: str, root: Path | None = None):
        folder = (root or cache_dir()) / "eval-answers"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{model_sha256}.jsonl"
        self.model_sha256 = model_sha256
        self.answers: dict[str, dict] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the half-written last line of a killed run
                self.answers[entry["key"]] = entry["answer"]

    def key(
        self, system_prompt: str | None, sampling: dict, max_tokens: int, history, prompt: str, grounded: bool
    ) -> str:
        """`grounded`: a grounded answer also records its sources and what the core flagged, even
        when no passage came and the prompt is the plain one."""
        decided_by = {
            "grounded": grounded,
            "model": self.model_sha256,
            "core": core_sha256(),
            "system_prompt": system_prompt,
            "sampling": sampling,
            "max_tokens": max_tokens,
            "history": [list(turn) for turn in history],
            "prompt": prompt,
        }
        return sha256_json(decided_by)

    def get(self, key: str) -> dict | None:
        return self.answers.get(key)

    def put(self, key: str, answer: dict) -> None:
        self.answers[key] = answer
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"key": key, "answer": answer}, ensure_ascii=False) + "\n")

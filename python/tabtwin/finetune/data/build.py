"""Persona sources -> training and holdout examples (ChatML `messages` JSONL).

Expansion. A seed with question variants q1..qn and answer variants a1..am becomes
up to `max_per_seed` conversations. Pairs are taken in rounds (q_i, a_(i+d) mod m)
for d = 0, 1, ..., so every question and every answer appears before any pair
repeats a question; the order is fixed, so the same files give the same data.

Holdout, stratified by (source, kind). In each stratum, `holdout` of the items are
held out: those whose content digest (the config's `seed`, the stratum, the item's first words:
`item_digest`) ranks lowest. A digest belongs to the item, not to its place in the file, so adding,
removing or moving a seed leaves every other item where it was (at most one item crosses when the
stratum's share grows by one): a twin continued from an earlier adapter is never scored on wordings
that adapter trained on. The held-out items are:
  - a seed: one of its question variants (seeds with two or more variants only).
    That wording never reaches training while its answer does, so the holdout
    asks "do you know this when asked differently?", which is what a twin needs;
  - a conversation or a writing paragraph: the whole item.
A seed's held-out question carries every answer variant as acceptable (`accept`).

Imported archives (imported/*.jsonl) are curated first (curate.py: length limits, exact and near
duplicates, a cap per source), then split like the rest, by (imported/<format>, kind).

Every example carries the config's system prompt as its first message, its
`kind`, its `source` (seeds | conversations | writing | imported/<format>) and `where` (file:line).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.finetune.config import RunConfig
from tabtwin.finetune.data.curate import Curation, curate, drop_too_long
from tabtwin.finetune.data.sources import DataError, Persona, Seed, assistant_text, read_persona
from tabtwin.inputs import InputError, jsonl_objects, read_text, unknown_key
from tabtwin.paths import replacing_folder

TRAIN_FILE, HOLDOUT_FILE, MANIFEST_FILE = "train.jsonl", "holdout.jsonl", "manifest.json"


@dataclass
class Example:
    messages: list[dict]  # system, then alternating user / assistant
    kind: str
    source: str
    where: str
    accept: list[str] | None = None  # acceptable first answers (held-out seed questions)
    grounding: str | None = None  # grounded | unanswerable: user turns carry passages (data/grounded.py)

    def to_json(self) -> dict:
        out = {"messages": self.messages, "kind": self.kind, "source": self.source, "where": self.where}
        if self.accept:
            out["accept"] = self.accept
        if self.grounding:
            out["grounding"] = self.grounding
        return out

    @classmethod
    def from_json(cls, obj: dict) -> Example:
        return cls(obj["messages"], obj["kind"], obj["source"], obj["where"], obj.get("accept"), obj.get("grounding"))


@dataclass
class Split:
    persona: Persona
    train: list[Example] = field(default_factory=list)
    holdout: list[Example] = field(default_factory=list)
    # Digests of the wordings each side asks, as the author wrote them (see `wordings`): kept when
    # the grounded forms put notes in front of the questions.
    asked: dict[str, list[str]] = field(default_factory=dict)
    curation: Curation = field(default_factory=Curation)  # what was kept of imported/ and why not the rest


def seed_pairs(n_questions: int, n_answers: int, cap: int) -> list[tuple[int, int]]:
    pairs = [(i, (i + d) % n_answers) for d in range(n_answers) for i in range(n_questions)]
    return pairs[:cap]


def conversation(system_prompt: str, user: str, assistant: str) -> list[dict]:
    return [
        {"role": "system", "content": system_prompt},
        {"role": "user", "content": user},
        {"role": "assistant", "content": assistant},
    ]


def expand_seed(seed: Seed, system_prompt: str, cap: int, skip_question: int | None = None) -> list[Example]:
    questions = [q for i, q in enumerate(seed.questions) if i != skip_question]
    return [
        Example(
            conversation(system_prompt, questions[i], assistant_text(seed, seed.answers[j])),
            seed.kind,
            "seeds",
            seed.where,
        )
        for i, j in seed_pairs(len(questions), len(seed.answers), cap)
    ]


def split(cfg: RunConfig) -> Split:
    """Read, validate, expand and split the persona named by `cfg` (no tokenizer needed)."""
    d = cfg.data
    persona = read_persona(d.persona, d.apps, (d.writing_min_chars, d.writing_max_chars))
    out = Split(persona)
    imported, out.curation = curate(persona.conversations + persona.writing, persona.imported, d, d.seed)
    system = {"role": "system", "content": cfg.system_prompt}

    strata: dict[tuple[str, str], list] = {}
    for seed in persona.seeds:
        strata.setdefault(("seeds", seed.kind), []).append(seed)
    for conv in persona.conversations + persona.writing + imported:
        strata.setdefault((conv.origin, conv.kind), []).append(conv)

    for (source, kind), items in sorted(strata.items()):
        digests = [item_digest(d.seed, source, kind, item) for item in items]
        eligible = [i for i, item in enumerate(items) if not isinstance(item, Seed) or len(item.questions) >= 2]
        n_hold = min(len(eligible), round(d.holdout * len(items)))
        held = set(sorted(eligible, key=lambda i: digests[i])[:n_hold])
        for index, item in enumerate(items):
            if isinstance(item, Seed):
                skip = int(digests[index][-8:], 16) % len(item.questions) if index in held else None
                out.train += expand_seed(item, cfg.system_prompt, d.max_per_seed, skip)
                if skip is not None:
                    answers = [assistant_text(item, a) for a in item.answers]
                    out.holdout.append(
                        Example(
                            conversation(cfg.system_prompt, item.questions[skip], answers[skip % len(answers)]),
                            item.kind,
                            source,
                            item.where,
                            answers,
                        )
                    )
            else:
                example = Example([system] + item.messages, item.kind, source, item.where)
                (out.holdout if index in held else out.train).append(example)
    out.asked = {"train": wordings(out.train), "holdout": wordings(out.holdout)}
    return out


def item_digest(seed: int, source: str, kind: str, item) -> str:
    """The hex sha256 that ranks an item for the holdout: what the item says, not where it sits. A
    seed is named by its first question, a conversation or paragraph by its first message; an author
    who rewords that line moves only that item."""
    first = item.questions[0] if isinstance(item, Seed) else item.messages[0]["content"]
    return hashlib.sha256(f"{seed}\0{source}\0{kind}\0{first}".encode()).hexdigest()


@dataclass
class Lengths:
    """Token counts of every example, from the base model's tokenizer."""

    tokens: list[int]
    supervised: list[int]
    too_long: list[str]  # "file:line: ..." for examples over max_seq_len
    too_long_at: list[int] = field(default_factory=list)  # their indices


def measure(examples: list[Example], tokenizer, max_seq_len: int, context: int | None) -> Lengths:
    from tabtwin.finetune.data.encode import encode

    tokens, supervised, too_long, at = [], [], [], []
    for index, ex in enumerate(examples):
        enc = encode(tokenizer, ex.messages)
        tokens.append(len(enc))
        supervised.append(enc.supervised)
        if len(enc) > max_seq_len:
            hint = (
                f"shorten it, or raise [train] max_seq_len (the model's context is {context})"
                if context
                else "shorten it, or raise [train] max_seq_len"
            )
            if ex.kind == "writing":
                hint = "lower [data] writing_max_chars, or raise [train] max_seq_len"
            too_long.append(f"{ex.where}: example is {len(enc)} tokens, longer than max_seq_len {max_seq_len}; {hint}")
            at.append(index)
    return Lengths(tokens, supervised, too_long, at)


def without_long_imports(result: Split, lengths: Lengths) -> Lengths:
    """Drop from `result` the imported examples over max_seq_len (counted in its curation), and
    return the lengths of the rest: what is left too long is hand-written, and refused."""
    examples = result.train + result.holdout
    dropped = drop_too_long(result.curation, examples, lengths.too_long_at)
    if not dropped:
        return lengths
    n_train = len(result.train)
    result.train = [ex for i, ex in enumerate(result.train) if i not in dropped]
    result.holdout = [ex for i, ex in enumerate(result.holdout, n_train) if i not in dropped]
    keep = [i for i in range(len(examples)) if i not in dropped]
    long_left = [(n, i) for n, i in zip(lengths.too_long, lengths.too_long_at) if i not in dropped]
    renumber = {old: new for new, old in enumerate(keep)}
    return Lengths(
        [lengths.tokens[i] for i in keep],
        [lengths.supervised[i] for i in keep],
        [n for n, _ in long_left],
        [renumber[i] for _, i in long_left],
    )


def dataset_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in (TRAIN_FILE, HOLDOUT_FILE):
        digest.update((Path(folder) / name).read_bytes())
    return digest.hexdigest()


def wording_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def wordings(examples: list[Example]) -> list[str]:
    """Digests of every user turn the examples ask, as the author wrote it (before any notes are put in
    front): the train report keeps them, so that a run continued from that adapter can tell whether its
    holdout asks a wording the adapter trained on (train.check_holdout_unseen)."""
    return sorted({wording_digest(m["content"]) for ex in examples for m in ex.messages if m["role"] == "user"})


def write(cfg: RunConfig, result: Split, lengths: Lengths) -> dict:
    """Write train/holdout JSONL and a manifest into cfg.data_dir, all or nothing."""
    with replacing_folder(cfg.data_dir) as tmp:
        tmp.mkdir()
        for name, examples in ((TRAIN_FILE, result.train), (HOLDOUT_FILE, result.holdout)):
            with open(tmp / name, "w", encoding="utf-8") as f:
                for ex in examples:
                    f.write(json.dumps(ex.to_json(), ensure_ascii=False) + "\n")
        manifest = {
            "config": str(cfg.path),
            "persona": str(cfg.data.persona),
            "system_prompt": cfg.system_prompt,
            "apps": list(cfg.data.apps),
            "files": result.persona.files,
            "imported": result.curation.to_json(),
            "train": counts(result.train),
            "holdout": counts(result.holdout),
            "max_tokens": max(lengths.tokens, default=0),
            "max_seq_len": cfg.train.max_seq_len,
            "dataset_sha256": dataset_hash(tmp),
            "wordings": result.asked,
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def counts(examples: list[Example]) -> dict[str, int]:
    names = (f"{ex.source}/{ex.kind}" + (f"/{ex.grounding}" if ex.grounding else "") for ex in examples)
    return dict(sorted(Counter(names).items()))


def build(cfg: RunConfig, tokenizer, context: int | None = None, grounding=None) -> dict:
    """`tabtwin data build`: validate everything, then write; raise DataError and write nothing on problems.
    `grounding` (the core's Grounding over the site's index): user turns in the page's grounded form too
    (data/grounded.py), as `[data] grounded` and `unanswerable` say."""
    result = split(cfg)
    d = cfg.data
    if d.grounded or d.unanswerable:
        from tabtwin.finetune.data.grounded import Grounder, ground_split

        if grounding is None:
            raise DataError([f"{cfg.path}: [data] grounded/unanswerable need the site's index ([grounding] site)"])
        grounder = Grounder(grounding, d.grounded, d.unanswerable, d.dont_know, cfg.export.persona)
        result.train, result.holdout = ground_split(result.train, result.holdout, grounder, d.seed)
    if not result.train:
        raise DataError([f"{cfg.data.persona}: no training examples after the holdout split"])
    lengths = measure(result.train + result.holdout, tokenizer, cfg.train.max_seq_len, context)
    lengths = without_long_imports(result, lengths)
    if lengths.too_long:
        raise DataError(lengths.too_long)
    if not result.train:
        raise DataError([f"{cfg.data.persona}: no training examples after the holdout split"])
    return write(cfg, result, lengths)


def read_examples(path: Path) -> list[Example]:
    """The examples of a built train.jsonl / holdout.jsonl, each line checked (a hand-edited or cut
    file is named with its line, not read as fewer examples)."""
    path = Path(path)
    if not path.exists():
        raise TabtwinError(f"{path}: not built yet; run `tabtwin data build CONFIG` first")
    try:
        text = read_text(path, "built examples: one JSON object a line")
    except InputError as exc:
        raise DataError([str(exc)]) from None
    problems: list[str] = []
    examples = []
    for number, obj in jsonl_objects(path, text, problems, empty_ok=True):
        bad = example_problems(obj)
        if bad:
            problems.append(f"{path}:{number}: {bad}; rebuild it with `tabtwin data build CONFIG`")
        else:
            examples.append(Example.from_json(obj))
    if problems:
        raise DataError(problems)
    return examples


EXAMPLE_KEYS = {"messages": list, "kind": str, "source": str, "where": str, "accept": list, "grounding": str}


def example_problems(obj: dict) -> str | None:
    """What is wrong with one built example (Example.to_json's shape), or None."""
    for key in obj:
        if key not in EXAMPLE_KEYS:
            return unknown_key(key, EXAMPLE_KEYS)
    for key, kind in EXAMPLE_KEYS.items():
        if key not in obj and key not in ("accept", "grounding"):
            return f"key '{key}' is missing"
        if key in obj and not isinstance(obj[key], kind):
            return f"key '{key}' must be a {kind.__name__} (got {obj[key]!r:.40})"
    for i, m in enumerate(obj["messages"], 1):
        if not (isinstance(m, dict) and set(m) == {"role", "content"} and all(isinstance(v, str) for v in m.values())):
            return f'key \'messages\': message {i} must be {{"role": "...", "content": "..."}} (got {m!r:.40})'
    if not all(isinstance(a, str) for a in obj.get("accept") or []):
        return "key 'accept' must be a list of strings"
    return None

"""The small persona and config writer the fine-tune tests share."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

SYSTEM_PROMPT = "You are Ada Example, a fictional engineer. Answer as Ada, briefly."

SEEDS = [
    {
        "q": ["Where do you live?", "Which city is your home?", "Where are you based?"],
        "a": ["I live in Lisbon.", "Lisbon is home."],
        "kind": "fact",
    },
    {
        "q": ["What is your favourite language?", "Which programming language do you like most?"],
        "a": ["Rust, for its honesty about errors."],
        "kind": "fact",
    },
    {
        "q": ["What do you do?", "What is your job?"],
        "a": ["I build small tools for large archives."],
        "kind": "fact",
        "think": "The question is about my work.",
    },
    {
        "q": ["Show me your Rust projects", "Which projects use Rust?"],
        "a": ["Here they are."],
        "kind": "tool",
        "tool": {"app": "projects", "params": {"tag": "rust"}},
    },
    {
        "q": ["What books did you read?", "Show me your reading list"],
        "a": ["My shelf:"],
        "kind": "tool",
        "tool": {"app": "books", "params": {}},
    },
    {"q": ["What is the capital of France?", "Name France's capital."], "a": ["Paris."], "kind": "contrast"},
    {"q": ["How many legs does a spider have?"], "a": ["Eight."], "kind": "contrast"},
    {"q": ["Say hello", "Greet me"], "a": ["Hello! Ada here.", "Hi, I'm Ada."], "kind": "style"},
]

CONVERSATIONS = [
    {
        "messages": [
            {"role": "user", "content": "Hi!"},
            {"role": "assistant", "content": "Hello, I'm Ada."},
            {"role": "user", "content": "Any talks?"},
            {"role": "assistant", "content": 'A few.\nTOOL {"app":"talks","params":{}}'},
        ]
    },
    {"messages": [{"role": "user", "content": "Do you like tea?"}, {"role": "assistant", "content": "Green tea."}]},
    {
        "messages": [{"role": "user", "content": "Coffee?"}, {"role": "assistant", "content": "Never after noon."}],
        "kind": "habits",
    },
]

ESSAY_MD = textwrap.dedent("""\
    ---
    title: On Slow Software
    ---
    <!-- exported from a blog engine,
         with its comments -->
    # On Slow Software

    Software gets slow one reasonable decision at a time. Every dependency is small,
    every abstraction is kind, and together they weigh a ton.[^1]

    ## Why it matters

    A tool that answers in a blink is a tool people trust. A **slow** tool teaches
    them to look away, and they stop noticing when it is wrong.[1] See [my notes](https://example.org).

    Subscribe to my newsletter for more!

    *If you liked this, forward it to a friend.*

    [^1]: A footnote that should not be learned.
    """)

ESSAY_HTML = textwrap.dedent("""\
    <html><head><title>Archive Notes</title></head><body>
    <nav>Home | About</nav>
    <h1>Archive Notes</h1>
    <p class="meta">2 May 2024 · Tagged: archives · 3 min read</p>
    <p>Archives are letters to strangers. We write them for people we will never meet<sup>2</sup>,
    and the kindest thing we can do is to <em>label</em> things plainly.</p>
    <div class="share-buttons"><a href="#">Mastodon</a></div>
    <section class="comments"><h2>Comments (2)</h2><p>Great post, thanks a lot for writing it!</p></section>
    <footer>Copyright 2024 Ada Example. All rights reserved.</footer>
    </body></html>
    """)


def write_persona(folder: Path, seeds=SEEDS, conversations=CONVERSATIONS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seeds.jsonl").write_text("".join(json.dumps(s) + "\n" for s in seeds))
    (folder / "conversations.jsonl").write_text("".join(json.dumps(c) + "\n" for c in conversations))
    (folder / "writing").mkdir(exist_ok=True)
    (folder / "writing" / "slow-software.md").write_text(ESSAY_MD)
    (folder / "writing" / "archive-notes.html").write_text(ESSAY_HTML)
    return folder


def write_config(folder: Path, base: Path, persona: Path, **overrides) -> Path:
    """A run config; `overrides` maps 'section.key' to a TOML literal."""
    values = {
        "data.persona": json.dumps(str(persona)),
        "data.holdout": "0.35",
        "data.seed": "0",
        "data.max_per_seed": "4",
        "data.writing_min_chars": "80",
        "data.writing_max_chars": "400",
        "train.base": json.dumps(str(base)),
        "train.output": json.dumps(str(folder / "run")),
        "train.r": "8",
        "train.alpha": "16",
        "train.lr": "5e-3",
        "train.epochs": "2",
        "train.patience": "2",
        "train.max_seq_len": "160",
        "train.batch_size": "4",
        "train.checkpoint_every": "2",
        "train.threads": "1",
        "export.persona": '"Ada Example"',
        "export.quantization": '"f32"',
        "eval.max_tokens": "24",
    }
    values.update(overrides)
    sections: dict[str, list[str]] = {}
    for key, value in values.items():
        section, name = key.split(".")
        sections.setdefault(section, []).append(f"{name} = {value}")
    text = f"[system]\nprompt = {json.dumps(SYSTEM_PROMPT)}\n\n"
    text += "\n".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items())
    path = folder / "twin.toml"
    path.write_text(text)
    return path

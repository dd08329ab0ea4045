"""Issue 34's "done when", end to end in a temporary checkout: an author starts a persona with
`tabtwin new`, imports the fixture exports of every format (`tests/imports/exports/`, with their
quirks) as herself, builds the data, trains a tiny random llama for a few steps, exports it, builds
the site with `python build.py`'s verb and chats with her twin in Chromium. Only her words may
become the twin's: every assistant turn in the built data is something she wrote (in the fixtures,
or in the persona files `new` wrote for her), and nothing another participant wrote is one.

The tiny model answers gibberish; the page flow is what is checked (model ready, a reply streamed,
no error). About 35 s on two shared cores."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from test_chat_page import ask, load_model

from tabtwin import cli

pytestmark = pytest.mark.torch  # the short train; Chromium and the SmolLM2 tokenizer mark it too

EXPORTS = Path(__file__).resolve().parent.parent / "imports" / "exports"
IMPORTS = [  # (format, export): every format, and WhatsApp's Android and iOS line styles
    ("whatsapp", "WhatsApp Chat with Bob Smith.txt"),
    ("whatsapp", "WhatsApp Chat - Climbing crew.txt"),
    ("telegram", "result.json"),
    ("x", "tweets.js"),
    ("mbox", "mail.mbox"),
    ("posts", "blog"),
]
NAME = "Ada Okonkwo"
ME = "Ada Okonkwo,Ada,ada@example.org,user7,ada_ol"  # her names, address, Telegram id and X handle

# Everything Ada wrote in the fixtures, read off the files by hand (entities decoded, links expanded):
# an assistant turn from an import must be made of these words and the privacy masks only.
ADAS_WORDS = """
Not tonight, I'm deep in a Rust refactor. The borrow checker and I are negotiating.
It's ada@example.org
Happy new year Bob! I've been thinking about what I want to build this year. Mostly small tools that
run in the browser with no server at all, because I'm tired of maintaining servers that cost money and
break at 3am. The browser is a good enough computer now; the hard part is making the download small.
Thanks Bob, see you at Smith's Bakery on 1/13.
Count me in. I'll bring snacks and the guidebook.
6a. Dan's number is 0049 170 1234567 if you want to ask him.
Yes! The changelog is at https://example.org/changes, it fixes the quadratic case.
Maybe, Bob. I'd talk about tiny models in the browser.
Small models & big ideas: I wrote up how the tab runs a model with no server https://ada.example/posts/no-server
@bobsmith Agreed, <3 the borrow checker. Ask @carol_j too
A thread on download sizes. 1/2
@ada_ol 2/2: shards, sha256, the Cache API.
Hi Bob, Yes, gladly. I'd show a 135M model answering in a tab with no server, and what it costs to
download. March works. From the next week on I am free. Ada
For years I ran small servers for small projects, and every one of them broke at the worst moment. A
certificate expired, a disk filled up, a dependency moved, and each time I learned again what I already
knew. Now I ship static files. The browser is the computer; the download is the only cost, and I can
measure it.
Sure, Thursday.
This blog is where I write about small models and the web. Write to me at ada@example.org.
The whole model runs in the tab. No API key, no inference server, nothing to keep alive at 3am.
What it costs is the download, so I measure it: shards, each checked, cached once.
"""
# What the other participants wrote, and the system lines, quotes, forwards and retweets in her
# exports, without the names the privacy step masks: none of it may be the twin's words.
OTHERS_WORDS = [
    "are you coming to the party tonight",
    "'s place, call me on",
    "Haha typical",
    "Send me your new email",
    "Sounds like a plan",
    "Who's in for Saturday at the crag",
    "can you bring the rope",
    "what's the grade of the route you led",
    "Did you see the new release of the parser",
    "Are you speaking at the meetup",
    "announced (not really)",
    "is not Ada's tweet",
    "Also not mine",
    "Would you give a talk on running models in the browser",
    "Twenty minutes, in March",
    "meetup organiser",
    "Great, see you then",
    "must never be Ada's",
    "sufficiently advanced technology",
    "someone else's words",
    "Sent from my iPhone",
    "end-to-end encrypted",
    "created group",
    "omitted",
    "This message was deleted",
    "You deleted this message",
    "was edited",
    "Missed voice call",
    "<attached:",
]
MASKS = re.compile(r"\[(?:name|phone|email)\]")


def words(text: str) -> str:
    return " ".join(text.split())


def tiny_llama_base(smollm_path: Path, out: Path) -> Path:
    """A 2-layer, 64-wide llama with random weights (seed 0, so the same bytes every run: its
    dequantized copy is cached once), as a GGUF carrying SmolLM2's tokenizer and chat template."""
    import torch
    from tiny_hf import tiny_config
    from transformers import LlamaForCausalLM

    from tabtwin._core import Chat
    from tabtwin.gguf.convert import DecoderConfig, write_gguf

    torch.manual_seed(0)
    vocab = Chat.from_path(smollm_path).info()["vocab_size"]
    config = tiny_config("llama", vocab, max_position_embeddings=512, rms_norm_eps=1e-5, initializer_range=0.05)
    model = LlamaForCausalLM(config).float().eval()
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    out.parent.mkdir(parents=True, exist_ok=True)
    write_gguf(weights, DecoderConfig.from_hf(config, "llama"), smollm_path, out, qtype="F32")
    return out


def edit(path: Path, **values: str) -> None:
    """Set `key = value` lines of a TOML file written by `tabtwin new`, as an author would."""
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
        assert n == 1, key
    path.write_text(text, encoding="utf-8")


def uncomment_entry(models: Path, twin_id: str) -> None:
    """Uncomment the [[model]] entry `tabtwin new` appended, as its checklist says to after export."""
    head, entry = models.read_text(encoding="utf-8").split("# [[model]]\n", 1)
    assert f'# id = "{twin_id}"' in entry
    body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in entry.splitlines())
    models.write_text(head + "[[model]]\ndefault = true\n" + body + "\n", encoding="utf-8")


def run(*args, root: Path | None = None) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([str(a) for a in args], root=root)
    assert code == 0, (args, out.getvalue())
    return out.getvalue()


@pytest.fixture(scope="module")
def own_twin(tmp_path_factory, root, smollm_path):
    """A checkout of Ada's own: `new`, `import` x 6, `data build`, `train`, `export`, the entry
    uncommented, `python build.py`; the built site served on loopback."""
    from tabtwin.site.serve import make_server

    work = tmp_path_factory.mktemp("own-twin")
    for part in ("templates", "static"):  # the site's code is the repository's; its content hers
        (work / "site").mkdir(exist_ok=True)
        (work / "site" / part).symlink_to(root / "site" / part)
    (work / "models.toml").write_text('[site]\ntarget = "github-pages"\n')
    base = tiny_llama_base(smollm_path, work / "bases" / "tiny-llama.gguf")

    persona = work / "finetune" / "data" / "ada"
    said = run("new", persona, "--name", NAME, "--base", base, "--root", work)
    assert "tabtwin new: Ada Okonkwo's twin ada-tiny-llama" in said, said
    config = work / "finetune" / "configs" / "ada.toml"
    # seconds of CPU: one epoch, one thread, the tiny base's context; short posts kept as paragraphs
    edit(config, epochs="1", threads="1", max_seq_len="512", writing_min_chars="40")

    for fmt, name in IMPORTS:
        said = run("import", EXPORTS / name, "--me", ME, "--into", persona)
        assert said.startswith(f"{fmt}:{name} ({fmt}) -> "), said
    run("data", "build", config)
    run("train", config, "--no-progress")
    run("export", config)
    twin_id = "ada-tiny-llama"
    assert (work / "finetune" / "twins" / f"{twin_id}.adapter").is_dir()

    uncomment_entry(work / "models.toml", twin_id)
    run("build", root=work)  # what `python build.py` runs, with this checkout as its root
    server = make_server(work / "_site", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield work, twin_id, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def built_examples(work: Path) -> list[dict]:
    data = work / "finetune" / "runs" / "ada" / "data"
    return [json.loads(line) for name in ("train", "holdout") for line in (data / f"{name}.jsonl").open()]


def test_only_the_authors_words_became_the_authors_turns(own_twin):
    work, _, _ = own_twin
    examples = built_examples(work)
    imported = [ex for ex in examples if ex["source"].startswith("imported/")]
    assert {ex["source"] for ex in imported} >= {f"imported/{fmt}" for fmt, _ in IMPORTS}, "every format trains"
    persona_text = words(
        "\n".join(
            (work / "finetune" / "data" / "ada" / f).read_text(encoding="utf-8")
            for f in ("seeds.jsonl", "conversations.jsonl")
        )
    )
    hers = words(ADAS_WORDS)
    for ex in examples:
        for turn in (m["content"] for m in ex["messages"] if m["role"] == "assistant"):
            assert not [s for s in OTHERS_WORDS if s.lower() in turn.lower()], (ex["where"], turn)
            if ex["source"].startswith("imported/"):
                # her words, line by line (a turn may join her messages, a thread its tweets), with
                # other people's names, numbers and addresses masked
                pieces = [words(p) for line in turn.splitlines() for p in MASKS.split(line) if p.strip(" .,:;'")]
                assert pieces and all(p in hers for p in pieces), (ex["where"], turn)
            else:  # the persona files `tabtwin new` wrote for her (no writing/ of her own here)
                assert ex["source"] in ("seeds", "conversations"), ex["where"]
                assert words(json.dumps(turn)[1:-1]) in persona_text, (ex["where"], turn)


def test_the_twin_loads_and_answers_in_chromium(page, own_twin):
    work, twin_id, url = own_twin
    models = json.loads((work / "_site" / "models.json").read_text())["models"]
    assert [(m["id"], m["name"]) for m in models] == [(twin_id, NAME)], "her twin, composed by the build"
    load_model(page, url, twin_id)
    answer = ask(page, "Hi, who are you?")
    assert page.get_attribute(".turn.assistant >> nth=-1", "data-done") != "error", page.console_lines
    done = json.loads(page.get_attribute("#stats", "data-done"))
    assert answer.strip() and done["tokens"] > 0 and done["prefill_tokens"] > 0, (done, answer)
    assert page.evaluate("document.body.dataset.error") is None, page.console_lines

"""The grounding index `python build.py` writes beside models.json: the contract the core reads
(wasm/core/src/grounding/index.rs), passage sizes, ids, urls that resolve to built pages, the
[grounding] table's validation and what the author left out."""

import hashlib
import json
import re
import shutil
import subprocess

import pytest

from tabtwin.site.build import BuildError, build
from tabtwin.site.grounding import REPORT_NAME, page_passages, sentences
from tabtwin.site.registry import GROUNDING_SOURCES, RegistryError, load_grounding

PAGE_SOURCES = {"about", "musings"}  # cut into passages; the others are one entry a passage
KEYS = ["id", "source", "title", "url", "text"]


def registry(tmp_path, model, grounding: str | None) -> object:
    path = tmp_path / "models.toml"
    text = f'[[model]]\nid = "t"\nlabel = "T"\npath = "{model}"\n'
    path.write_text(text + (f"\n[grounding]\n{grounding}\n" if grounding is not None else ""))
    return path


def repo_table(root, embedder: bool = False) -> str:
    """The repository's own [grounding] table (every source, Ada's seeds), its qa path made absolute
    for a registry in tmp; without the embedder unless asked (the fast tier downloads no model)."""
    config = load_grounding(root / "models.toml")
    assert config.sources == GROUNDING_SOURCES and config.qa == root / "finetune/data/ada/seeds.jsonl"
    assert config.embedder == "default"
    text = (root / "models.toml").read_text().split("[grounding]\n", 1)[1]
    text = text.replace('qa = "finetune/', f'qa = "{root}/finetune/')
    text = text.replace('answerability = "finetune/', f'answerability = "{root}/finetune/')
    if embedder:
        return text
    # words alone: the answerability model's features need the embedder
    return re.sub(r"\nanswerability = .*\n", "\n", text) + "\nembedder = false\n"


def index_of(site):
    listed = json.loads((site / "models.json").read_text())["grounding"]
    data = (site / listed["file"]).read_bytes() if listed else None
    return listed, data


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def repo_site(root, tiny_gguf, tmp_path_factory):
    """The repository's content and Q&A with its [grounding] table, built once."""
    work = tmp_path_factory.mktemp("grounding")
    summary = build(root, work / "_site", registry(work, tiny_gguf, repo_table(root)), log=lambda *_: None)
    return work / "_site", summary


def test_the_index_has_the_contracts_shape(repo_site):
    site, summary = repo_site
    listed, data = index_of(site)
    digest = hashlib.sha256(data).hexdigest()
    assert listed == {
        "file": f"grounding.{digest[:12]}.json",
        "sha256": digest,
        "bytes": len(data),
        "passages": len(json.loads(data)["passages"]),
        "embedder": None,
    }
    index = json.loads(data.decode("utf-8"))
    # words alone (the fast tier has no embedder), so no answerability model; the site's told_only travels
    assert list(index) == ["format", "told_only", "passages"] and index["format"] == 1 and index["told_only"]
    assert data == json.dumps(index, separators=(",", ":"), ensure_ascii=False).encode("utf-8")  # compact, UTF-8
    assert "Tärnan" in data.decode("utf-8")  # not \u-escaped
    passages = index["passages"]
    assert all(list(p) == KEYS and all(isinstance(p[k], str) for k in KEYS) for p in passages)
    assert {p["source"] for p in passages} == set(GROUNDING_SOURCES)
    order = [GROUNDING_SOURCES.index(p["source"]) for p in passages]
    assert order == sorted(order)
    ids = [p["id"] for p in passages]
    assert len(set(ids)) == len(ids)
    assert all(p["id"].startswith(p["source"] + "/") and p["text"].strip() for p in passages)
    assert "grounding: " in summary.table() and listed["file"] in summary.table()


def test_passages_are_40_to_120_words_unless_the_whole_entry_is_shorter(repo_site):
    site, _ = repo_site
    passages = json.loads(index_of(site)[1])["passages"]
    ids = {p["id"] for p in passages}
    for p in passages:
        n = words(p["text"])
        assert n <= 120, (p["id"], n)
        if p["source"] in PAGE_SOURCES:  # every page of the demo is longer than 40 words
            assert n >= 40, (p["id"], n)
        elif n < 40:  # a short entry is one passage, whole
            assert f"{p['id']}-2" not in ids, p["id"]
    # never cut inside a sentence: a page's passage ends where a sentence does
    for p in passages:
        if p["source"] in PAGE_SOURCES:
            assert re.search(r"[.!?…:\w\"”)]$", p["text"]), p["text"][-40:]
    musings = [p for p in passages if p["source"] == "musings"]
    slack = [p for p in musings if p["url"] == "musings/slack-water/"]
    assert len(slack) > 1 and {p["title"] for p in slack} == {"Musing: Slack water"}  # one title a musing


def test_every_url_is_a_built_page_and_every_fragment_an_id_in_it(repo_site):
    site, _ = repo_site
    for p in json.loads(index_of(site)[1])["passages"]:
        if p["source"] == "qa":
            assert p["url"] == "" and p["title"] == "Q&A", p
            continue
        page, _, fragment = p["url"].partition("#")
        assert page.endswith("/") and not page.startswith("/"), p["url"]
        html = site / page / "index.html"
        assert html.is_file(), p["url"]
        if fragment:
            assert f'id="{fragment}"' in html.read_text(), p["url"]


def test_qa_holds_the_facts_about_the_author_only(root, repo_site):
    site, _ = repo_site
    qa = [p for p in json.loads(index_of(site)[1])["passages"] if p["source"] == "qa"]
    seeds = [json.loads(line) for line in (root / "finetune/data/ada/seeds.jsonl").read_text().splitlines() if line]
    facts = [s for s in seeds if s["kind"] == "fact"]
    assert len(qa) == len(facts) and len(seeds) > len(facts)
    first = facts[0]
    assert qa[0]["text"].startswith(f"Q: {first['q'][0]} A: {first['a'][0]}")
    assert qa[0]["id"] == "qa/whats-your-name"
    assert not any("capital of France" in p["text"] for p in qa)  # a contrast seed: general knowledge


def test_the_report_lists_every_passage_and_is_not_published(repo_site, tmp_path):
    site, summary = repo_site
    listed, data = index_of(site)
    report = (site / REPORT_NAME).read_text()
    assert summary.grounding.report == site / REPORT_NAME
    for p in json.loads(data)["passages"]:
        assert f"{p['id']} " in report
    shell = json.loads((site / "sw.js").read_text().split("const SHELL = ")[1].split(";\n")[0])
    assert listed["file"] in shell and REPORT_NAME not in shell  # the index is cached like the other shell files
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    from tabtwin.site.publish import publish

    assert publish(site, tmp_path, str(bare), "gh-pages") == 0
    files = subprocess.run(
        ["git", "--git-dir", str(bare), "ls-tree", "-r", "--name-only", "gh-pages"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed["file"] in files and REPORT_NAME not in files and ".tabtwin-build.json" not in files


def test_a_subset_of_sources_and_a_disabled_index(root, tiny_gguf, tmp_path):
    site = tmp_path / "_site"
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        '{"q": ["Where do you live?", "Home?"], "a": ["In Majorna, Gothenburg.", "Gothenburg."], "kind": "fact"}\n'
        '{"q": ["Show me your books."], "a": ["Here they are."], "kind": "tool", "tool": {"app": "books"}}\n'
        '{"q": ["Capital of Peru?"], "a": ["Lima."], "kind": "contrast"}\n'
        '{"q": ["Hi!"], "a": ["Hello!"], "kind": "style"}\n'
    )
    reg = registry(tmp_path, tiny_gguf, f'sources = ["books", "qa"]\nqa = "{seeds.name}"\nembedder = false')
    build(root, site, reg, log=lambda *_: None)
    listed, data = index_of(site)
    passages = json.loads(data)["passages"]
    assert {p["source"] for p in passages} == {"books", "qa"}
    assert [p for p in passages if p["source"] == "qa"] == [
        {
            "id": "qa/where-do-you-live",
            "source": "qa",
            "title": "Q&A",
            "url": "",
            "text": "Q: Where do you live? A: In Majorna, Gothenburg. A: Gothenburg.",
        }
    ]
    first = listed["file"]
    build(root, site, reg, log=lambda *_: None)
    assert index_of(site)[0]["file"] == first  # same material, same name

    registry(tmp_path, tiny_gguf, "enabled = false")
    build(root, site, reg, log=lambda *_: None)
    assert json.loads((site / "models.json").read_text())["grounding"] is None
    assert list(site.glob("grounding*.json")) == [] and not (site / REPORT_NAME).exists()

    registry(tmp_path, tiny_gguf, None)  # no table: no index either
    summary = build(root, site, reg, log=lambda *_: None)
    assert json.loads((site / "models.json").read_text())["grounding"] is None
    assert summary.grounding is None and "grounding: none" in summary.table()


@pytest.mark.parametrize(
    "table, key, words",
    [
        ("colour = 1", "colour", ["unknown key", "enabled, sources, qa"]),
        ('enabled = "yes"', "enabled", ["true or false"]),
        ('sources = "about"', "sources", ["a list of source names"]),
        ('sources = ["about", "blog"]', "sources", ["'blog'", "known: about, projects"]),
        ('sources = ["about", "about"]', "sources", ["twice"]),
        ("sources = []", "sources", ["enabled = false"]),
        ("qa = 3", "qa", ["a path"]),
        ('sources = ["about", "qa"]', "qa", ['required when sources lists "qa"']),
        ("embedder = 3", "embedder", ['"default", a GGUF path, or false']),
        ('embedder = "nowhere.gguf"', "embedder", ["nowhere.gguf does not exist"]),
    ],
)
def test_a_bad_grounding_table_names_the_file_the_table_and_the_key(tmp_path, tiny_gguf, table, key, words):
    path = registry(tmp_path, tiny_gguf, table)
    with pytest.raises(RegistryError) as err:
        load_grounding(path)
    message = str(err.value)
    assert f"{path}:" in message and "[grounding]" in message and f"'{key}'" in message, message
    for word in words:
        assert word in message, message


def test_a_missing_or_broken_qa_file_is_named(root, tmp_path, tiny_gguf):
    path = registry(tmp_path, tiny_gguf, 'qa = "nowhere/seeds.jsonl"')
    with pytest.raises(RegistryError) as err:
        build(root, tmp_path / "_site", path, log=lambda *_: None)
    assert f"{tmp_path / 'nowhere/seeds.jsonl'} does not exist" in str(err.value)
    assert f"{path}:" in str(err.value) and "[grounding] key 'qa'" in str(err.value)
    # a qa file that is not JSON lines of seeds: the build names the file and the line
    (tmp_path / "seeds.jsonl").write_text('{"q": ["Hi?"], "a": ["Hello."], "kind": "fact"}\n{"q": "Hi?"\n')
    path = registry(tmp_path, tiny_gguf, 'qa = "seeds.jsonl"\nembedder = false')
    with pytest.raises(BuildError, match=re.escape(f"{tmp_path / 'seeds.jsonl'}:2: not valid JSON")):
        build(root, tmp_path / "_site", path, log=lambda *_: None)


def test_a_heading_with_an_id_gives_its_passages_a_fragment(root, tiny_gguf, tmp_path):
    """An author who gives a heading an id (`## Where I live {#where-i-live}`) gets passages that
    link to that section of the page."""
    project = tmp_path / "project"
    (project / "site").mkdir(parents=True)
    for part in ("static", "templates"):
        (project / "site" / part).symlink_to(root / "site" / part)
    content = project / "site" / "content"
    shutil.copytree(root / "site" / "content", content)
    about = (content / "about.md").read_text()
    about = about.replace("## Away from the keyboard", "## Away from the keyboard {#away}")
    (content / "about.md").write_text(about)
    site = project / "_site"
    build(project, site, registry(project, tiny_gguf, 'sources = ["about"]\nembedder = false'), log=lambda *_: None)
    passages = json.loads(index_of(site)[1])["passages"]
    away = next(p for p in passages if p["id"] == "about/away")
    assert away["url"] == "about/#away" and 'id="away"' in (site / "about/index.html").read_text()
    assert {p["url"] for p in passages} == {"about/", "about/#away"}


def sentence(n: int, k: int) -> str:
    return f"Sentence {k} " + " ".join(["word"] * (n - 3)) + " ends."


def test_long_text_is_cut_between_paragraphs_then_sentences_never_inside_one():
    from tabtwin.site.grounding import _Ids

    # one paragraph of 20 ten-word sentences, then a short one: 205 words, no heading
    long = " ".join(sentence(10, k) for k in range(20))
    html = f"<p>{long}</p><p>{sentence(5, 99)}</p>"
    out = page_passages(html, "musings", "musings/x", "X", "musings/x/", _Ids())
    assert [p.id for p in out][:2] == ["musings/x", "musings/x-2"]
    assert all(40 <= p.words <= 120 for p in out), [p.words for p in out]
    assert all(p.text.endswith("ends.") for p in out)
    assert " ".join(p.text for p in out).split() == f"{long} {sentence(5, 99)}".split()  # nothing lost or added
    # a sentence longer than a passage stays whole
    (whole,) = page_passages(f"<p>{sentence(150, 0)}</p>", "about", "about", "About", "about/", _Ids(), "intro")
    assert whole.words == 150 and whole.id == "about/intro"
    # an initial or an abbreviation does not end a sentence; a closing quote goes with its sentence
    assert sentences('Read James C. Scott, e.g. Seeing Like a State. "Is it true?" Not quite.') == [
        "Read James C. Scott, e.g. Seeing Like a State.",
        '"Is it true?"',
        "Not quite.",
    ]


def test_with_the_embedder_every_passage_carries_its_vector(root, tiny_gguf, embedder_path, tmp_path):
    """The default embedder is staged like a model (sharded, hashed) and named in the index by its
    sha256; each passage's vector is its text as the native core embeds it (the build ran the same
    core in wasmtime), as float16."""
    import base64

    import numpy as np

    from tabtwin._core import Grounding

    site = tmp_path / "_site"
    build(root, site, registry(tmp_path, tiny_gguf, repo_table(root, embedder=True)), log=lambda *_: None)
    listed, data = index_of(site)
    staged = listed["embedder"]
    assert staged["sha256"] == hashlib.sha256(embedder_path.read_bytes()).hexdigest()
    assert sum(s["bytes"] for s in staged["shards"]) == embedder_path.stat().st_size == staged["bytes"]
    assert all((site / s["url"]).is_file() for s in staged["shards"])
    index = json.loads(data)
    assert index["embedder"] == {"name": "all-MiniLM-L6-v2", "sha256": staged["sha256"], "dim": 384}
    passages = index["passages"]
    vectors = np.stack([np.frombuffer(base64.b64decode(p["vector"]), dtype="<f2") for p in passages])
    core = Grounding(data)
    core.attach_embedder(embedder_path)
    expected = np.array([core.embed(passages[0]["text"]), core.embed(passages[-1]["text"])], dtype=np.float32)
    assert np.allclose(vectors[[0, -1]].astype(np.float32), expected, atol=1e-3)
    assert vectors.shape == (len(passages), 384)


def test_an_embedder_that_is_not_one_is_refused(root, tiny_gguf, tmp_path):
    table = repo_table(root).replace("embedder = false", f'embedder = "{tiny_gguf}"')
    with pytest.raises(BuildError, match="not a sentence-embedding GGUF"):
        build(root, tmp_path / "_site", registry(tmp_path, tiny_gguf, table), log=lambda *_: None)


def test_the_sites_methods_go_into_the_index_and_a_broken_model_file_is_named(root, tmp_path):
    """[grounding] answerability (the fitted model's JSON) and told_only travel in the index, where
    the core reads them; a model file that is not JSON is refused with its file and line."""
    from tabtwin.site.grounding import GroundingError, encode
    from tabtwin.site.registry import Grounding

    model = root / "finetune/data/ada/answerability.json"
    passages = [page_passages("<p>I live in Majorna.</p>", "about", "about", "About", "about/", _ids())[0]]
    config = Grounding(sources=("about",), answerability=model, told_only=True, nearest=True, contrast=True)
    index = json.loads(encode(passages, None, config))
    assert index["answerability"] == json.loads(model.read_text())
    assert index["told_only"] is index["nearest"] is index["contrast"] is True
    plain = json.loads(encode(passages, None, Grounding(sources=("about",))))
    assert not {"answerability", "told_only", "nearest", "contrast"} & set(plain)
    broken = tmp_path / "answerability.json"
    broken.write_text('{\n  "features": [\n')
    with pytest.raises(GroundingError, match=f"{broken}:3: not valid JSON"):
        encode(passages, None, Grounding(sources=("about",), answerability=broken))
    broken.write_text("[1, 2]")
    with pytest.raises(GroundingError, match="not an answerability model"):
        encode(passages, None, Grounding(sources=("about",), answerability=broken))


def _ids():
    from tabtwin.site.grounding import _Ids

    return _Ids()

"""The chat page's suggestion chips, gathered at build time: the first wording of each Q&A `fact` seed
the grounding index holds (refusals left out) and a question about each project, book, musing and
talk; written into the chat page as JSON data that no question can break out of."""

import html
import json
import re

from tabtwin.site.build import build
from tabtwin.site.content import load as load_content
from tabtwin.site.registry import Grounding
from tabtwin.site.suggestions import suggestions


def seeds(tmp_path, lines: list[dict]):
    path = tmp_path / "seeds.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def test_questions_come_from_the_qa_and_every_kind_of_content(root, tmp_path):
    qa = seeds(
        tmp_path,
        [
            {"q": ["Where do you live?", "Home town?"], "a": ["In Gothenburg."], "kind": "fact"},
            {"q": ["Are you married?"], "a": ["I don't know; I've never said."], "kind": "fact"},
            {"q": ["Are you Mercator?"], "a": ["No, I'm Ada. Mercator is my cat."], "kind": "fact"},
            {"q": ["Tell me a joke"], "a": ["Two maps walk into a bar."], "kind": "style"},
        ],
    )
    content = load_content(root / "site/content")
    found = suggestions(content, Grounding(sources=("about", "qa"), qa=qa))
    by_source = {}
    for item in found:
        by_source.setdefault(item["source"], []).append(item["q"])
    assert by_source["qa"] == ["Where do you live?"], "first wordings of facts, refusals left out"
    assert {"projects", "books", "musings", "talks"} <= set(by_source)
    assert f"What did you think of {content.books[0]['title']}?" in by_source["books"]
    assert len(by_source["projects"]) == len(content.projects)


def test_no_qa_without_grounding_or_when_the_index_leaves_it_out(root, tmp_path):
    content = load_content(root / "site/content")
    qa = seeds(tmp_path, [{"q": ["Where do you live?"], "a": ["In Gothenburg."], "kind": "fact"}])
    for grounding in (None, Grounding(sources=("about",), qa=qa)):
        found = suggestions(content, grounding)
        assert found and all(item["source"] != "qa" for item in found)


def test_the_chat_page_carries_them_as_json_data_that_cannot_break_out(root, tmp_path, tiny_gguf):
    qa = seeds(tmp_path, [{"q": ["Is </script><script>alert(1)</script> safe?"], "a": ["Yes."], "kind": "fact"}])
    registry = tmp_path / "models.toml"
    registry.write_text(
        f'[[model]]\nid = "t"\nlabel = "T"\npath = "{tiny_gguf}"\n\n'
        f'[grounding]\nsources = ["about", "qa"]\nqa = "{qa}"\nembedder = false\n'
    )
    build(root, tmp_path / "_site", registry, log=lambda *_: None)
    page = (tmp_path / "_site/chat/index.html").read_text()
    data = re.search(r'<script type="application/json" id="suggestions-data">(.*?)</script>', page, re.S)
    assert data, "one data block, closed where it should be"
    questions = [item["q"] for item in json.loads(html.unescape(data.group(1)))]
    assert "Is </script><script>alert(1)</script> safe?" in questions
    assert page.count("<script>alert(1)") == 0

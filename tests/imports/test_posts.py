"""A folder of posts: front matter stripped and read for the title, HTML as text, quotes left out."""

from __future__ import annotations

from conftest import EXPORTS

from tabtwin.imports import posts
from tabtwin.imports.author import Author

BLOG = EXPORTS / "blog"


def test_each_post_becomes_writing_titled_from_its_front_matter_or_html():
    found = posts.read(BLOG, Author.parse("Ada"))
    markdown, html = found.records
    assert markdown["source"] == "posts:blog" and markdown["title"] == "Running a model with no server"
    assert markdown["text"] == (
        "The whole model runs in the tab. No API key, no inference server, nothing to keep alive at 3am.\n\n"
        "What it costs is the download, so I measure it: shards, each checked, cached once."
    )
    assert html["title"] == "Hello, world & welcome"
    assert html["text"] == (
        "This blog is where I write about small models and the web.\n\nWrite to me at ada@example.org."
    )
    assert found.left_out == {"empty posts": 1}


def test_ids_follow_the_posts_path_in_the_folder_not_the_folders_place(tmp_path):
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    (copy / "2024").mkdir()
    (copy / "2024" / "no-server.md").write_bytes((BLOG / "2024" / "no-server.md").read_bytes())
    (again,) = posts.read(copy, Author.parse("Ada")).records
    assert again["id"] == posts.read(BLOG, Author.parse("Ada")).records[0]["id"]


def test_toml_front_matter_and_a_single_file(tmp_path):
    post = tmp_path / "note.md"
    post.write_text('+++\ntitle = "A note"\n+++\nJust a note.\n')
    (only,) = posts.read(post, Author.parse("Ada")).records
    assert (only["title"], only["text"], only["source"]) == ("A note", "Just a note.", "posts:note.md")

"""X archive tweets.js: retweets left out, entities unescaped, t.co links resolved, threads joined."""

from __future__ import annotations

from conftest import ADA, EXPORTS

from tabtwin.imports import x
from tabtwin.imports.author import Author

TWEETS = EXPORTS / "tweets.js"


def test_tweets_become_writing_with_links_resolved_and_retweets_left_out():
    found = x.read(TWEETS, Author.parse(ADA))
    texts = [r["text"] for r in found.records]
    assert texts == [
        "Small models & big ideas: I wrote up how the tab runs a model with no server "
        "https://ada.example/posts/no-server",
        "Agreed, <3 the borrow checker. Ask @carol_j too",  # the reply's leading @bobsmith dropped
        "A thread on download sizes. 1/2\n\n2/2: shards, sha256, the Cache API.",
    ]
    assert {r["kind"] for r in found.records} == {"writing"}
    assert found.records[0]["title"] == "Post on X, 2018-10-10"
    assert found.left_out == {"retweets": 2, "media-only tweets": 1}
    assert "t.co" not in "".join(texts)
    # the accounts mentioned are other people; the author's own handle is not
    assert found.others == {"bobsmith", "Bob Smith", "carol_j", "Carol Jones"}


def test_older_archives_name_the_part_tweet_and_hold_tweets_without_a_wrapper(tmp_path):
    old = tmp_path / "tweet.js"
    old.write_text('window.YTD.tweet.part0 = [{"id_str": "1", "full_text": "Hello &gt; world"}]')
    (only,) = x.read(old, Author.parse("ada")).records
    assert only["text"] == "Hello > world" and only["title"] == "Post on X"

"""An X (Twitter) archive's `data/tweets.js` (older archives: `tweet.js`):
`window.YTD.tweets.part0 = [{"tweet": {...}}, ...]`.

Every tweet in it is the author's, so each becomes writing, except retweets (`RT @...` or
`"retweeted": true`: someone else's words). The text is unescaped (`&amp;` -> `&`), t.co links are
put back as the addresses they stand for (`entities.urls[].expanded_url`), links to attached media
and the `@handles` a reply opens with are dropped, and a tweet left empty (a photo alone) is left
out. A thread (the author replying to their own tweet) becomes one piece of writing.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

from tabtwin.imports import record
from tabtwin.imports.author import Author
from tabtwin.imports.refusal import line_of, refuse
from tabtwin.imports.result import Imported
from tabtwin.inputs import read_text

PREFIX = re.compile(r"\s*window\.YTD\.\w+\.part\d+\s*=\s*")
LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)+")


def read(path: Path, me: Author) -> Imported:
    text = read_text(path, "an X archive's tweets.js")
    tweets = _tweets(path, text)
    source = record.source_name("x", path.name)
    left_out, others, kept = Counter(), set(), {}
    for tweet in tweets:
        words = tweet.get("full_text", tweet.get("text"))
        if not isinstance(words, str) or not isinstance(tweet.get("id_str"), str):
            raise refuse(path, _line(text, tweet), 'a tweet must have a "full_text" and an "id_str" string')
        if tweet.get("retweeted") is True or words.startswith("RT @"):
            left_out["retweets"] += 1
            continue
        mentions = tweet.get("entities", {}).get("user_mentions", [])
        others |= {m.get(k) for m in mentions for k in ("screen_name", "name") if m.get(k)}
        others -= {o for o in others if me.is_me(o)}
        words = _clean(words, tweet.get("entities", {}))
        if words:
            kept[tweet["id_str"]] = (tweet, words)
        else:
            left_out["media-only tweets"] += 1
    found = [_thread(path, source, kept, ids) for ids in _threads(kept)]
    return Imported(source, found, others, left_out, len(kept))


def _tweets(path: Path, text: str) -> list[dict]:
    prefix = PREFIX.match(text)
    if not prefix:
        raise refuse(path, 1, 'not an X archive tweets.js: it does not start with "window.YTD.tweets.part0 = "')
    try:
        items = json.loads(text[prefix.end() :])
    except json.JSONDecodeError as exc:
        raise refuse(path, exc.lineno, f"not valid JSON after the window.YTD prefix: {exc.msg}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise refuse(path, 1, 'not an X archive tweets.js: expected a list of {"tweet": {...}} after the prefix')
    return [i.get("tweet", i) for i in items]


def _line(text: str, tweet: dict) -> int | None:
    """The line of a tweet, found by its id (json keeps no positions)."""
    tweet_id = tweet.get("id_str") or tweet.get("id")
    at = text.find(f'"{tweet_id}"') if tweet_id else -1
    return line_of(text, at) if at >= 0 else None


def _clean(text: str, entities: dict) -> str:
    for url in entities.get("urls", []):
        if url.get("url") and url.get("expanded_url"):
            text = text.replace(url["url"], url["expanded_url"])
    for media in entities.get("media", []):
        if media.get("url"):
            text = text.replace(media["url"], "")
    return LEADING_MENTIONS.sub("", html.unescape(text)).strip()


def _threads(kept: dict) -> list[list[str]]:
    """Tweet ids grouped by thread (a reply to a tweet of the archive joins its thread), oldest first."""

    def root(tweet_id: str) -> str:
        parent = kept[tweet_id][0].get("in_reply_to_status_id_str")
        return root(parent) if parent in kept and parent != tweet_id else tweet_id

    threads: dict[str, list[str]] = {}
    for tweet_id in sorted(kept, key=int):
        threads.setdefault(root(tweet_id), []).append(tweet_id)
    return list(threads.values())


def _thread(path: Path, source: str, kept: dict, ids: list[str]) -> dict:
    first = kept[ids[0]][0]
    try:
        when = datetime.strptime(first.get("created_at", ""), "%a %b %d %H:%M:%S %z %Y")
        title = f"Post on X, {when:%Y-%m-%d}"
    except ValueError:
        title = "Post on X"
    text = "\n\n".join(kept[i][1] for i in ids)
    return record.writing("x", ids[0], source, title, text)

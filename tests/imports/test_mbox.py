"""mbox: the author's messages by From, quotes and signatures cut, HTML-only mail as text, and the
message answered (In-Reply-To, when in the mailbox) as the user turn."""

from __future__ import annotations

from conftest import ADA, EXPORTS, authored

from tabtwin.imports import mbox
from tabtwin.imports.author import Author

MAIL = EXPORTS / "mail.mbox"


def test_a_reply_to_a_message_in_the_mailbox_is_a_conversation_without_quotes_or_signatures():
    reply, letter = mbox.read(MAIL, Author.parse(ADA)).records
    asked, answered = reply["messages"]
    assert asked["role"] == "user" and asked["content"].startswith("Hi Ada,\n\nWould you give a talk")
    assert asked["content"].endswith("Bob")  # Bob's signature after "-- " cut
    assert answered["content"] == (
        "Hi Bob,\n\nYes, gladly. I'd show a 135M model answering in a tab with no server, and\n"
        "what it costs to download. March works.\nFrom the next week on I am free.\n\nAda"
    )
    assert letter["kind"] == "writing" and letter["title"] == "Why I stopped running servers"
    assert letter["text"].startswith("For years I ran small servers")
    assert "<p>" not in letter["text"] and "someone else's words" not in letter["text"]  # HTML, blockquote


def test_other_peoples_mail_is_never_the_authors_words():
    found = mbox.read(MAIL, Author.parse(ADA))
    assert not any("Carol's text" in w or "Would you give a talk" in w for w in authored(found.records))
    assert found.left_out["others' messages (read only as what you answered)"] == 2
    # "Sure, Thursday." (+ "Sent from my iPhone") answers a mail that is not in the mailbox: too short alone
    assert found.left_out["short messages of yours with no question in the mailbox"] == 1


def test_cut_reply_drops_quotes_wrapped_attributions_outlook_blocks_and_phone_footers():
    assert mbox.cut_reply("Yes.\n\nOn Mon, 1 Jan 2024, Bob <b@x.org>\nwrote:\n> hi") == "Yes."
    assert mbox.cut_reply("Yes.\n-----Original Message-----\nFrom: Bob") == "Yes."
    assert mbox.cut_reply("Yes.\nFrom: Bob Smith\nSent: Monday\nTo: Ada") == "Yes."
    assert mbox.cut_reply("> quoted\nMine.\nSent from my iPhone") == "Mine."
    assert mbox.cut_reply("Mine.\n-- \nAda, https://ada.example") == "Mine."
    assert mbox.cut_reply("On second thought, no.") == "On second thought, no."

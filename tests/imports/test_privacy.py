"""The privacy step: phone numbers, addresses and the other people's names masked; dates, times,
amounts and the author's own name left alone."""

from __future__ import annotations

from tabtwin.imports.privacy import Masker


def masker() -> Masker:
    return Masker({"Bob Smith", "Carol Jones", "carol_j", "+1 555 0100", "dan@x.org"}, {"ada", "okonkwo"})


def test_phone_numbers_in_their_usual_spellings_are_masked():
    m = masker()
    text = "Call +1 (555) 010-0199, 555-123-4567, 0049 170 1234567 or +44 20 7946 0958."
    assert m.mask(text) == "Call [phone], [phone], [phone] or [phone]."
    assert m.counts["phone"] == 4


def test_dates_times_years_and_amounts_are_not_phone_numbers():
    text = "On 12/31/2023 at 21:41:05 (2023-12-31), 1,000,000 views, order 12345678, v1.2.3"
    assert masker().mask(text) == text


def test_email_addresses_are_masked():
    assert masker().mask("mail ada.o+x@mail.example.org or dan@x.org") == "mail [email] or [email]"


def test_other_peoples_names_and_their_parts_are_masked_but_not_the_authors():
    m = masker()
    assert m.mask("Ada met Bob Smith, then Bob and Carol; Smith's cat. @carol_j @CAROL_J") == (
        "Ada met [name], then [name] and [name]; [name]'s cat. @[name] @[name]"
    )
    assert m.mask("Okonkwo bobbing carolers") == "Okonkwo bobbing carolers"  # whole words only


def test_a_record_is_masked_in_every_text_but_its_id_and_source():
    item = {
        "id": "0123456789abcdef",
        "source": "whatsapp:WhatsApp Chat with Bob Smith.txt",
        "kind": "conversation",
        "messages": [{"role": "user", "content": "Bob here"}, {"role": "assistant", "content": "Hi Bob"}],
    }
    masked = masker().record(item)
    assert masked["messages"] == [
        {"role": "user", "content": "[name] here"},
        {"role": "assistant", "content": "Hi [name]"},
    ]
    assert masked["source"] == item["source"] and masked["id"] == item["id"]
    assert item["messages"][0]["content"] == "Bob here"  # a copy

"""Hold-to-talk in real Chromium with a WAV as the fake microphone."""

import re
import subprocess

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_FLAGS

PHRASE = "what is the weather like today"


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    work = tmp_path_factory.mktemp("mic")
    raw, speech, wav = work / "raw.wav", work / "speech.wav", work / "mic.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), PHRASE], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(speech)], check=True)
    # the phrase, then silence: the fake device loops its file, so the hold ends in silence
    subprocess.run(["sox", str(speech), str(wav), "pad", "0.3", "8"], check=True)
    return wav


def launch(playwright, wav, extra=()):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_FLAGS,
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
            *extra,
        ],
    )


def open_chat(context, site_url):
    page = context.new_page()
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    return page


def record_statuses(page):
    """Every text #voice-status shows from now on, in window.statuses (a transcription may be over
    before a poll would see its progress)."""
    page.evaluate(
        """() => {
            window.statuses = [];
            const status = document.getElementById("voice-status");
            new MutationObserver(() => window.statuses.push(status.textContent))
                .observe(status, { childList: true, characterData: true, subtree: true });
        }"""
    )


def hold(page, seconds):
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_selector("body[data-recording='true']")
    page.wait_for_timeout(int(seconds * 1000))
    page.mouse.up()


def test_hold_to_talk_puts_the_words_in_the_input(playwright, site_url, speech_wav):
    browser = launch(playwright, speech_wav)
    context = browser.new_context(permissions=["microphone"])
    page = open_chat(context, site_url)
    assert page.is_visible("#talk")
    assert page.input_value("#prompt") == ""
    record_statuses(page)
    hold(page, 3.5)
    page.wait_for_selector(
        "#voice-status:has-text('Heard'), #voice-status[data-kind='error'], #voice-status[data-kind='warning']",
        timeout=180_000,
    )
    text = page.input_value("#prompt").lower()
    assert "weather" in text and "today" in text, (text, page.inner_text("#voice-status"))
    # the wait is counted in seconds while the words are on their way
    statuses = page.evaluate("window.statuses")
    assert any(re.search(r"ranscribing on this device… \d+\.\d s", s) for s in statuses), statuses
    browser.close()


def test_a_hold_stops_at_the_thirty_second_limit_and_says_so(playwright, site_url, speech_wav):
    browser = launch(playwright, speech_wav)
    context = browser.new_context(permissions=["microphone"])
    page = open_chat(context, site_url)
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_selector("body[data-recording='true']")
    # still held: the page lets go by itself at the limit
    page.wait_for_selector("body:not([data-recording])", timeout=45_000)
    page.wait_for_selector(
        "#voice-status:has-text('Heard'), #voice-status[data-kind='error'], #voice-status[data-kind='warning']",
        timeout=180_000,
    )
    page.mouse.up()
    status = page.inner_text("#voice-status")
    assert "30" in status and "limit" in status, status
    assert "weather" in page.input_value("#prompt").lower()
    browser.close()


def test_a_tap_is_too_short(playwright, site_url, speech_wav):
    browser = launch(playwright, speech_wav)
    context = browser.new_context(permissions=["microphone"])
    page = open_chat(context, site_url)
    hold(page, 0.05)
    page.wait_for_selector("#voice-status:has-text('Too short')", timeout=30_000)
    assert page.input_value("#prompt") == ""
    browser.close()


def test_denied_microphone_is_explained(playwright, site_url, speech_wav):
    browser = launch(playwright, speech_wav, extra=["--deny-permission-prompts"])
    context = browser.new_context()  # no microphone permission granted
    page = open_chat(context, site_url)
    box = page.locator("#talk").bounding_box()
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.wait_for_selector("#voice-status[data-kind='error']", timeout=30_000)
    page.mouse.up()
    assert (
        "denied" in page.inner_text("#voice-status").lower() or "microphone" in page.inner_text("#voice-status").lower()
    )
    browser.close()

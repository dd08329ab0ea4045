"""The committed wasm runs SmolLM2 in a Worker in real Chromium and answers."""

LOAD_TIMEOUT_MS = 300_000
ANSWER_TIMEOUT_MS = 300_000


def load_model(page, site_url, model_id="smollm2-135m-instruct"):
    page.goto(f"{site_url}chat/")
    page.wait_for_selector("body[data-initialized='true']")
    page.check(f".model-card[data-id='{model_id}'] input")
    page.click("#load")
    page.wait_for_selector("body[data-ready='true'], body[data-error]", timeout=LOAD_TIMEOUT_MS)
    assert page.evaluate("document.body.dataset.error") is None, page.console_lines


def ask(page, question):
    page.fill("#prompt", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant[data-done]", timeout=ANSWER_TIMEOUT_MS)
    return page.inner_text(".turn.assistant >> nth=-1")


def test_answers_paris_with_simd128(page, site_url):
    load_model(page, site_url)
    assert page.evaluate("document.body.dataset.simd128") == "true"
    answer = ask(page, "What is the capital of France?")
    assert "Paris" in answer, (answer, page.console_lines)
    assert "tok/s" in page.inner_text("#stats")


def test_second_turn_equals_the_native_core_seeded_with_the_first(page, site_url, smollm_path):
    """Multi-turn through the wasm binding: Chromium's second answer is the native core's when the
    native core is seeded (set_history) with the conversation's first turn as the page showed it."""
    from tabtwin._core import Chat

    load_model(page, site_url)
    first_q, second_q = "What is the capital of France?", "And what is the capital of Italy?"
    first_a = ask(page, first_q)
    page.fill("#prompt", second_q)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant >> nth=1 >> xpath=self::*[@data-done]", timeout=ANSWER_TIMEOUT_MS)
    second_a = page.text_content(".turn.assistant >> nth=1")
    native = Chat.from_path(smollm_path)
    native.set_history([("user", first_q), ("assistant", page.text_content(".turn.assistant >> nth=0"))])
    expected = native.generate(second_q, max_tokens=256)
    assert "Paris" in first_a and "Rome" in second_a, (first_a, second_a)
    assert second_a.strip() == expected.strip()


def test_regenerate_forgets_the_last_exchange_in_the_worker(page, site_url, smollm_path):
    """Regenerate through the real worker: the core forgets the last question and answer
    (Chat.forget_last_exchange), so the answer comes again from the conversation before it (greedy:
    the same words), and the next turn is the native core's seeded with one copy of each exchange."""
    from tabtwin._core import Chat

    load_model(page, site_url)
    first_q, second_q, third_q = "What is the capital of France?", "And of Italy?", "And of Spain?"
    ask(page, first_q)
    page.fill("#prompt", second_q)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant >> nth=1 >> xpath=self::*[@data-done]", timeout=ANSWER_TIMEOUT_MS)
    first_a, second_a = (page.text_content(f".turn.assistant >> nth={i}") for i in (0, 1))
    page.click("[data-regenerate]")
    page.wait_for_selector(".turn.assistant >> nth=1 >> xpath=self::*[@data-done]", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_selector("[data-regenerate]")
    assert page.locator(".turn.assistant").count() == 2
    assert page.text_content(".turn.assistant >> nth=1") == second_a
    assert page.evaluate("document.body.dataset.error") is None, page.console_lines
    page.fill("#prompt", third_q)
    page.keyboard.press("Enter")
    page.wait_for_selector(".turn.assistant >> nth=2 >> xpath=self::*[@data-done]", timeout=ANSWER_TIMEOUT_MS)
    native = Chat.from_path(smollm_path)
    native.set_history([("user", first_q), ("assistant", first_a), ("user", second_q), ("assistant", second_a)])
    assert page.text_content(".turn.assistant >> nth=2").strip() == native.generate(third_q, max_tokens=256).strip()

//! The conversation logic with a scripted model: a byte-level tokenizer (one
//! token per byte, plus the ChatML specials), a ChatML template, and a model that
//! predicts whatever the test scripted. Each test runs in milliseconds.

use tokenizers::pre_tokenizers::byte_level::ByteLevel;

use super::*;
use crate::models::scripted::{Script, ScriptedLm};
use crate::template::ChatTemplate;
use crate::tokenizer::TOKEN_TYPE_CONTROL;

const CHATML: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}\
                      {% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

fn chat_with(defaults: GenerateOptions) -> (Chat, Script) {
    let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
    alphabet.sort();
    let mut tokens: Vec<String> = alphabet.iter().map(char::to_string).collect();
    let mut types = vec![1; tokens.len()];
    for special in ["<|im_start|>", "<|im_end|>"] {
        tokens.push(special.to_string());
        types.push(TOKEN_TYPE_CONTROL);
    }
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let tokenizer = TextTokenizer::byte_level_bpe("gpt2", &token_refs, &[], &types).unwrap();
    let template = ChatTemplate::new(CHATML, String::new(), "<|im_end|>".into()).unwrap();
    let end_of_turn = tokenizer.token_to_id("<|im_end|>").unwrap();
    let script = Script::default();
    let model = ScriptedLm::new(tokens.len(), end_of_turn, script.clone());
    let info = ModelInfo {
        architecture: "scripted".into(),
        name: None,
        context_length: 512,
        vocab_size: tokens.len(),
        embedded_system_prompt: None,
        persona: None,
        tools: None,
        refusals: None,
        sampling: defaults,
    };
    (Chat::new(Bundle::new(Box::new(model), tokenizer, template, info, None)), script)
}

fn chat() -> (Chat, Script) {
    chat_with(GenerateOptions::default())
}

fn ids(chat: &Chat, text: &str) -> Vec<u32> {
    chat.tokenizer().encode(text).unwrap()
}

fn msg(role: &str, content: &str) -> Message {
    Message::new(role, content)
}

/// The tokens of the prompt the template renders for `conversation`.
fn prompt(chat: &Chat, conversation: &[Message]) -> Vec<u32> {
    ids(chat, &chat.render(conversation).unwrap())
}

fn say(chat: &Chat, script: &Script, text: &str) {
    script.replies.borrow_mut().clear();
    script.say(&ids(chat, text));
}

fn no_overrides() -> Overrides {
    Overrides::default()
}

fn max_tokens(n: usize) -> Overrides {
    Overrides { max_tokens: Some(n), ..Default::default() }
}

/// Step the started reply to its end; the text each step handed out.
fn drain(chat: &mut Chat) -> Vec<String> {
    let mut pieces = Vec::new();
    while let Some(events) = chat.step().unwrap() {
        let text: String = events
            .iter()
            .map(|e| match e {
                Event::Text { text } => text.as_str(),
                _ => "",
            })
            .collect();
        pieces.push(text);
    }
    pieces
}

#[test]
fn a_reply_follows_the_model_until_its_end_of_turn_token() {
    let (mut chat, script) = chat();
    say(&chat, &script, "ok");
    assert_eq!(chat.generate("hi", &no_overrides(), |_| true).unwrap(), "ok");
    assert_eq!(chat.stop_reason(), Some(StopReason::EndOfTurn));
    assert_eq!(chat.generated_tokens(), 2, "the end-of-turn token is not counted");
    assert_eq!(script.calls_since_reset()[0], (prompt(&chat, &[msg("user", "hi")]), 0));
    assert_eq!(chat.history(), vec![msg("user", "hi"), msg("assistant", "ok")]);
}

#[test]
fn the_second_turn_feeds_the_model_only_its_new_tokens() {
    let (mut chat, script) = chat();
    say(&chat, &script, "ok");
    chat.generate("hi", &no_overrides(), |_| true).unwrap();
    let first = prompt(&chat, &[msg("user", "hi")]);
    say(&chat, &script, "fine");
    assert_eq!(chat.generate("and you?", &no_overrides(), |_| true).unwrap(), "fine");

    let whole = prompt(&chat, &[msg("user", "hi"), msg("assistant", "ok"), msg("user", "and you?")]);
    let calls = script.calls_since_reset();
    // first prompt, then "o" and "k" fed one at a time, then the second prompt's new part
    assert_eq!(calls[0], (first.clone(), 0), "no reset between the turns");
    let reused = first.len() + 2;
    assert_eq!(calls[3], (whole[reused..].to_vec(), reused));
}

#[test]
fn old_turns_drop_out_whole_when_the_window_is_full() {
    let (mut chat, script) = chat();
    for (question, answer) in [("first", "one"), ("second", "two")] {
        say(&chat, &script, answer);
        chat.generate(question, &no_overrides(), |_| true).unwrap();
    }
    let kept = [msg("user", "second"), msg("assistant", "two"), msg("user", "third")];
    let everything = [msg("user", "first"), msg("assistant", "one")].iter().chain(&kept).cloned().collect::<Vec<_>>();
    let window = prompt(&chat, &kept).len() + 4;
    assert!(prompt(&chat, &everything).len() + 4 > window);
    chat.set_context_limit(window).unwrap();

    let before = script.calls.borrow().len();
    say(&chat, &script, "3");
    chat.generate("third", &max_tokens(4), |_| true).unwrap();
    let (fed, at) = script.calls.borrow()[before].clone();
    assert!(at > 0, "the opening the shorter prompt shares with the cache is reused");
    assert_eq!(cache_after(&script, before + 1), prompt(&chat, &kept), "the model sees exactly the shorter prompt");
    assert_eq!(fed.len(), prompt(&chat, &kept).len() - at);
    assert_eq!(chat.history()[..2], [msg("user", "second"), msg("assistant", "two")]);
}

/// The tokens in the scripted model's cache after its first `calls` calls: each call drops
/// what lay past its position and appends its tokens (a reset marker empties it).
fn cache_after(script: &Script, calls: usize) -> Vec<u32> {
    let mut cache = Vec::new();
    for (tokens, pos) in script.calls.borrow()[..calls].iter() {
        if *pos == usize::MAX {
            cache.clear();
            continue;
        }
        cache.truncate(*pos);
        cache.extend_from_slice(tokens);
    }
    cache
}

#[test]
fn a_prepared_prompt_is_reused_up_to_where_the_sent_one_differs() {
    let (mut chat, script) = chat();
    say(&chat, &script, "ok");
    chat.generate("hi", &no_overrides(), |_| true).unwrap();
    // the visitor types "where were you b", pauses (prepared), then sends the whole question
    let before = script.calls.borrow().len();
    let fed = chat.prepare("where were you b", &no_overrides(), usize::MAX).unwrap().fed;
    assert_eq!(chat.history(), vec![msg("user", "hi"), msg("assistant", "ok")], "the last reply is filed");
    let typed = prompt(&chat, &[msg("user", "hi"), msg("assistant", "ok"), msg("user", "where were you b")]);
    assert_eq!(cache_after(&script, before + 1), typed);
    assert!(fed > 0 && fed < typed.len(), "the turn before was already cached: {fed}");

    say(&chat, &script, "Uppsala");
    chat.generate("where were you born?", &no_overrides(), |_| true).unwrap();
    let sent = prompt(&chat, &[msg("user", "hi"), msg("assistant", "ok"), msg("user", "where were you born?")]);
    let (tokens, at) = script.calls.borrow()[before + 1].clone();
    let shared = typed.iter().zip(&sent).take_while(|(a, b)| a == b).count();
    assert_eq!((at, tokens.len()), (shared, sent.len() - shared), "only what differs is fed");
    assert_eq!(cache_after(&script, before + 2), sent);
    assert_eq!(chat.last_reply_raw().as_deref(), Some("Uppsala"));
}

#[test]
fn preparing_while_a_reply_is_generated_is_refused_and_a_prompt_too_long_is_left_to_start() {
    let (mut chat, script) = chat();
    say(&chat, &script, "one two");
    chat.start("hi", &no_overrides()).unwrap();
    chat.step().unwrap();
    let err = chat.prepare("next", &no_overrides(), usize::MAX).unwrap_err().to_string();
    assert!(err.contains("a reply is being generated"), "{err}");
    drain(&mut chat);
    chat.set_context_limit(32).unwrap();
    let before = script.calls.borrow().len();
    let prepared = chat.prepare(&"word ".repeat(40), &max_tokens(4), usize::MAX).unwrap();
    assert_eq!((prepared.fed, prepared.left), (0, 0));
    assert_eq!(script.calls.borrow().len(), before, "nothing fed");
}

#[test]
fn a_message_longer_than_the_window_is_refused_with_the_numbers() {
    let (mut chat, _) = chat();
    chat.set_context_limit(32).unwrap();
    let err = chat.start(&"word ".repeat(20), &max_tokens(8)).unwrap_err().to_string();
    assert!(err.contains("too small") && err.contains("32"), "{err}");
    assert!(chat.set_context_limit(8).is_err(), "a window too small for anything is refused");
}

#[test]
fn stop_ends_the_reply_and_keeps_what_was_said() {
    let (mut chat, script) = chat();
    say(&chat, &script, "abcdef");
    chat.start("go", &no_overrides()).unwrap();
    assert_eq!(chat.step().unwrap(), Some(vec![Event::text("a")]));
    chat.stop();
    assert_eq!(drain(&mut chat), vec![String::new()], "one last step hands out what was held back");
    assert_eq!(chat.stop_reason(), Some(StopReason::Stopped));
    assert_eq!(chat.generated_tokens(), 1);
    assert_eq!(chat.history().last(), Some(&msg("assistant", "a")));
}

#[test]
fn max_tokens_caps_the_reply() {
    let (mut chat, script) = chat();
    say(&chat, &script, "abcdef");
    assert_eq!(chat.generate("go", &max_tokens(3), |_| true).unwrap(), "abc");
    assert_eq!(chat.stop_reason(), Some(StopReason::MaxTokens));
    assert_eq!(chat.generated_tokens(), 3);
}

#[test]
fn a_full_window_ends_the_reply() {
    let (mut chat, script) = chat();
    say(&chat, &script, "abcdef");
    chat.start("go", &max_tokens(8)).unwrap();
    let fed = prompt(&chat, &[msg("user", "go")]).len();
    chat.set_context_limit(fed + 2).unwrap();
    assert_eq!(drain(&mut chat).concat(), "ab");
    assert_eq!(chat.stop_reason(), Some(StopReason::ContextFull));
}

#[test]
fn the_models_defaults_apply_unless_the_caller_overrides_them() {
    let (mut chat, script) = chat_with(GenerateOptions { max_tokens: 2, ..Default::default() });
    say(&chat, &script, "abcdef");
    assert_eq!(chat.generate("go", &no_overrides(), |_| true).unwrap(), "ab");
    say(&chat, &script, "abcdef");
    assert_eq!(chat.generate("again", &max_tokens(4), |_| true).unwrap(), "abcd");
    let info = serde_json::to_value(chat.info()).unwrap();
    assert_eq!(info["sampling"]["max_tokens"], 2);
    assert_eq!(info["sampling"]["temperature"], 0.0);
}

#[test]
fn a_character_split_across_tokens_is_shown_only_when_whole() {
    let (mut chat, script) = chat();
    say(&chat, &script, "café");
    assert_eq!(ids(&chat, "é").len(), 2, "the fixture splits é into two byte tokens");
    chat.start("go", &no_overrides()).unwrap();
    let pieces = drain(&mut chat);
    assert_eq!(pieces[..5], ["c", "a", "f", "", "é"]);
    assert!(!pieces.concat().contains('\u{FFFD}'));
    assert_eq!(chat.generated_tokens(), 5);
}

#[test]
fn a_reply_cut_inside_a_character_flushes_its_tail() {
    let (mut chat, script) = chat();
    say(&chat, &script, "aé");
    chat.start("go", &max_tokens(2)).unwrap();
    assert_eq!(drain(&mut chat), ["a", "", "\u{FFFD}"]);
    assert_eq!(chat.stop_reason(), Some(StopReason::MaxTokens));
}

#[test]
fn set_history_accepts_alternating_turns_and_the_model_sees_them() {
    let (mut chat, script) = chat();
    let earlier = vec![msg("user", "hi"), msg("assistant", "hello")];
    chat.set_history(earlier.clone()).unwrap();
    say(&chat, &script, "ok");
    chat.generate("again", &no_overrides(), |_| true).unwrap();
    let expected = prompt(&chat, &[msg("user", "hi"), msg("assistant", "hello"), msg("user", "again")]);
    assert_eq!(script.calls_since_reset()[0], (expected, 0));
}

#[test]
fn forgetting_the_last_exchange_asks_again_on_the_conversation_before_it() {
    let (mut chat, script) = chat();
    say(&chat, &script, "one");
    chat.generate("first", &no_overrides(), |_| true).unwrap();
    say(&chat, &script, "two");
    chat.generate("second", &no_overrides(), |_| true).unwrap();
    chat.forget_last_exchange().unwrap();
    assert_eq!(chat.history(), vec![msg("user", "first"), msg("assistant", "one")]);
    say(&chat, &script, "again");
    chat.generate("second", &no_overrides(), |_| true).unwrap();
    let expected = prompt(&chat, &[msg("user", "first"), msg("assistant", "one"), msg("user", "second")]);
    assert_eq!(script.calls_since_reset()[0], (expected, 0));

    chat.forget_last_exchange().unwrap();
    chat.forget_last_exchange().unwrap();
    assert!(chat.history().is_empty());
    chat.forget_last_exchange().unwrap(); // nothing left to forget is not an error
}

#[test]
fn set_history_refuses_what_is_not_a_conversation_and_keeps_the_old_one() {
    let (mut chat, script) = chat();
    say(&chat, &script, "ok");
    chat.generate("hi", &no_overrides(), |_| true).unwrap();
    let before = chat.history();
    let cases: [(Vec<Message>, &str); 3] = [
        (vec![msg("system", "be nice"), msg("user", "hi")], "system prompt comes from the model"),
        (vec![msg("user", "hi"), msg("user", "hi again")], "should be assistant"),
        (vec![msg("user", "hi"), msg("assistant", "hello"), msg("user", "and?")], "ends with a user message"),
    ];
    for (messages, why) in cases {
        let err = chat.set_history(messages).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
        assert_eq!(chat.history(), before);
    }
}

#[test]
fn an_empty_message_is_refused() {
    let (mut chat, _) = chat();
    assert!(chat.start("  ", &no_overrides()).unwrap_err().to_string().contains("empty"));
}

#[test]
fn a_reply_is_marked_refused_only_when_the_twin_says_it_does_not_know() {
    let (chat, script) = chat();
    let refusals = crate::refusal::Refusals::from_metadata(Some(r#"["I don't know; my notes don't say."]"#)).unwrap();
    let mut chat = Chat::new(chat.bundle.with_refusals(refusals));
    for (reply, refused) in [
        ("I don't know. I've never written about that.", true),
        ("<think>Not in my notes.</think>I don't know; my notes don't say.", true),
        ("Uppsala. I don't know the hospital.", false),
        ("<think>I don't know yet</think>Uppsala.", false),
    ] {
        say(&chat, &script, reply);
        chat.start("Where were you born?", &no_overrides()).unwrap();
        assert!(!chat.last_reply_refused() || refused, "nothing generated yet: {reply}");
        drain(&mut chat);
        assert_eq!(chat.last_reply_refused(), refused, "{reply}");
    }
    let (mut plain, script) = self::chat(); // no tabtwin.refusals: nothing is marked
    say(&plain, &script, "I don't know.");
    plain.start("Where were you born?", &no_overrides()).unwrap();
    drain(&mut plain);
    assert!(!plain.last_reply_refused());
}

#[test]
fn a_reply_s_names_and_numbers_are_checked_against_everything_the_model_was_told() {
    let (mut chat, script) = chat();
    chat.set_system_prompt(Some("You are Ada, in Gothenburg.".into()), true).unwrap();
    assert!(chat.last_reply_unsupported().is_empty(), "no reply yet");
    say(&chat, &script, "I moved to Gothenburg in 2019, with Mercator.");
    chat.start("Notes:\n[About] My cat is Mercator.\n\nWhen did you move?", &no_overrides()).unwrap();
    drain(&mut chat);
    assert_eq!(chat.last_reply_unsupported(), ["2019"], "the system prompt and the notes told the rest");
    // a later turn is checked against the earlier user turns too, not against the twin's own words
    say(&chat, &script, "<think>Recall 2019.</think>Since 2019, by Mercator and Oslo.");
    chat.start("And the cat?", &no_overrides()).unwrap();
    drain(&mut chat);
    assert_eq!(chat.last_reply_unsupported(), ["2019", "Oslo"]);
}

#[test]
fn a_prompt_prepared_a_chunk_at_a_time_ends_in_the_same_cache() {
    let (mut chat, script) = chat();
    let whole = prompt(&chat, &[msg("user", "where were you born?")]);
    let mut fed = Vec::new();
    loop {
        let step = chat.prepare("where were you born?", &no_overrides(), 5).unwrap();
        fed.push(step.fed);
        if step.left == 0 {
            break;
        }
    }
    assert!(fed.len() > 2 && fed[..fed.len() - 1].iter().all(|&n| n == 5), "{fed:?}");
    assert_eq!(fed.iter().sum::<usize>(), whole.len());
    assert_eq!(cache_after(&script, script.calls.borrow().len()), whole);
}

// --- the core's decisions for a grounded turn (grounding::answerable, support.rs) ---

const REFUSALS: &str = r#"["I don't know; my notes don't say.", "That isn't in anything I've written."]"#;

fn twin_chat() -> (Chat, Script) {
    let (chat, script) = chat();
    let refusals = crate::refusal::Refusals::from_metadata(Some(REFUSALS)).unwrap();
    (Chat::new(chat.bundle.with_refusals(refusals)), script)
}

fn verdict(v: Verdict) -> Overrides {
    Overrides { verdict: Some(v), ..Default::default() }
}

#[test]
fn a_refuse_verdict_gives_one_of_the_twins_own_refusals_whatever_the_model_would_say() {
    let (mut chat, script) = twin_chat();
    say(&chat, &script, "A Siamese.");
    let reply = chat.generate("What breed is Mercator?", &verdict(Verdict::Refuse), |_| true).unwrap();
    let lines: Vec<String> = serde_json::from_str(REFUSALS).unwrap();
    assert!(lines.contains(&reply), "{reply}");
    assert_eq!(chat.stop_reason(), Some(StopReason::EndOfTurn));
    assert!(chat.last_reply_refused());
    assert_eq!(chat.history()[1], msg("assistant", &reply), "the conversation holds what the visitor read");
    chat.reset();
    let again = chat.generate("What breed is Mercator?", &verdict(Verdict::Refuse), |_| true).unwrap();
    assert_eq!(again, reply, "the same question gets the same line");
}

#[test]
fn an_answer_verdict_keeps_a_refusal_from_opening_the_reply() {
    for scripted in ["I don't know; my notes don't say.", "I'm not sure.", "That isn't in anything I've written."] {
        let (mut chat, script) = twin_chat();
        say(&chat, &script, scripted);
        let reply = chat.generate("Where do you live?", &verdict(Verdict::Answer), |_| true).unwrap();
        assert!(!chat.last_reply_refused(), "{scripted} -> {reply}");
        let (mut open, script) = twin_chat();
        say(&open, &script, scripted);
        open.generate("Where do you live?", &verdict(Verdict::Open), |_| true).unwrap();
        assert!(open.last_reply_refused() || scripted == "I'm not sure.", "open: the model decides");
    }
    let (mut chat, script) = twin_chat();
    say(&chat, &script, "I live in Majorna.");
    let reply = chat.generate("Where do you live?", &verdict(Verdict::Answer), |_| true).unwrap();
    assert_eq!(reply, "I live in Majorna.", "an answer passes untouched");
}

#[test]
fn told_only_keeps_an_untold_number_or_name_from_beginning() {
    let notes = "Notes:\n[About] I keep Gunnar, a starter, since 2019.\n\nSince when?";
    let told_only = Overrides { told_only: Some(true), ..Default::default() };
    let (mut chat, script) = self::chat();
    say(&chat, &script, "Since 1987, with Zed.");
    let free = chat.generate(notes, &no_overrides(), |_| true).unwrap();
    assert_eq!(chat.last_reply_unsupported(), ["1987", "Zed"], "{free}");
    let (mut chat, script) = self::chat();
    say(&chat, &script, "Since 1987, with Zed.");
    let held = chat.generate(notes, &told_only, |_| true).unwrap();
    assert!(chat.last_reply_unsupported().is_empty(), "{held}");
    let (mut chat, script) = self::chat();
    say(&chat, &script, "Since 2019, with Gunnar.");
    assert_eq!(chat.generate(notes, &told_only, |_| true).unwrap(), "Since 2019, with Gunnar.", "told words pass");
}

#[test]
fn a_contrasted_turn_feeds_the_question_without_notes_into_the_second_cache_beside_the_reply() {
    let (mut chat, script) = self::chat();
    chat.generate("Hi", &no_overrides(), |_| true).unwrap();
    let notes = "Notes:\n[About] I live in Majorna.\n\nWhere do you live?";
    // Each step the model is asked twice, with notes then without: the reply is the first of each
    // pair (the contrast keeps only what the notes make plausible), the second is never said.
    let answer = ids(&chat, "Majorna.");
    let noise = ids(&chat, "x")[0];
    script.replies.borrow_mut().clear();
    script.say(&answer.iter().flat_map(|&t| [t, noise]).collect::<Vec<_>>());
    let calls_before = script.calls.borrow().len();
    let contrast =
        Overrides { contrast: Some(crate::contrast::Contrast::new("Where do you live?")), ..Default::default() };
    let reply = chat.generate(notes, &contrast, |_| true).unwrap();
    assert_eq!(reply, "Majorna.");
    let calls = script.calls.borrow()[calls_before..].to_vec();
    let with_notes = prompt(&chat, &[msg("user", "Hi"), msg("assistant", ""), msg("user", notes)]);
    let history = chat.history();
    let without = prompt(&chat, &[history[0].clone(), history[1].clone(), msg("user", "Where do you live?")]);
    let shared = with_notes.iter().zip(&without).take_while(|(a, b)| a == b).count();
    let first_exchange = ids(&chat, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n");
    assert!(shared > first_exchange.len(), "the turns before the question are shared");
    // The prompt with notes past the cached turn, then the one without from where they part.
    assert_eq!(calls[1], (without[shared..].to_vec(), shared), "only the bare question is fed again");
    // Then every reply token but the last goes to both caches, each at its own next position.
    let (main_start, plain_start) = (calls[0].1 + calls[0].0.len(), without.len());
    for (i, token) in answer.iter().enumerate() {
        assert_eq!(calls[2 + 2 * i], (vec![*token], main_start + i), "with notes, token {i}");
        assert_eq!(calls[3 + 2 * i], (vec![*token], plain_start + i), "without notes, token {i}");
    }
    assert!(with_notes.len() > without.len());
    // The next turn, not contrasted, goes on from the first cache as if nothing else had been fed.
    say(&chat, &script, "Yes.");
    assert_eq!(chat.generate("Really?", &no_overrides(), |_| true).unwrap(), "Yes.");
}

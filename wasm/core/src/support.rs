//! Which names and numbers of a reply the model was never told. A small twin's inventions are
//! mostly these ("I'm a female, 45% male.", "I joined in 2019."): a number or a name that is in
//! neither its system prompt nor any user turn of the conversation, and a grounded turn carries
//! its notes. The page lists them under a grounded answer ("not in its notes: 45%") so that a
//! visitor knows which claims no page of the author's backs; `tabtwin eval` counts them.
//!
//! A name is a capitalized word that does not open a sentence ("Small tools, slow bread" names
//! nothing; "by John Ousterhout" names two) and is not "I"; a number is a word with a digit
//! ("45%", "4.05", "5'10"). Words compare without case, curly apostrophes or a possessive "'s".
//! A name at the start of a sentence is not checked: it cannot be told from an ordinary word
//! there, and a warning that flags "Small" would teach visitors to ignore it.

use std::collections::HashSet;

/// The reply's names and numbers that no text of `told` contains as a word, each once, as the
/// reply writes them (without a possessive), in the order they first appear.
pub fn unsupported(reply: &str, told: &[&str]) -> Vec<String> {
    let known = known(told);
    let mut out: Vec<String> = Vec::new();
    for (start, word) in words(reply) {
        if !is_claim(reply, start, word) || known.contains(&key(word)) {
            continue;
        }
        let shown = without_possessive(word).to_string();
        if !out.contains(&shown) {
            out.push(shown);
        }
    }
    out
}

/// Every word of `told`, as words compare. A hyphenated word also states its parts:
/// "Okonkwo-Lindqvist" tells "Okonkwo".
pub fn known(told: &[&str]) -> HashSet<String> {
    told.iter()
        .flat_map(|text| words(text))
        .flat_map(|(_, word)| std::iter::once(word).chain(word.split('-').filter(|p| p.len() < word.len())))
        .map(key)
        .collect()
}

/// Whether a reply that begins `text` may go on (or, `ended`, end there): its last word, if it is a
/// name or a number, is one `known` holds (or, still being written, the start of one). Decoding with `told_only` takes
/// the best token that keeps this true, so an invented name or number cannot begin; earlier words
/// were checked when they were written.
pub fn may_continue(text: &str, known: &HashSet<String>, ended: bool) -> bool {
    let Some(&(start, word)) = words(text).last() else { return true };
    if !is_claim(text, start, word) {
        return true;
    }
    let k = key(word);
    let complete = ended || start + word.len() < text.trim_end_matches(['\'', '\u{2019}']).len();
    known.contains(&k) || (!complete && known.iter().any(|w| w.starts_with(&k)))
}

/// A word a fact rests on: a number, or a name (see the module's comment).
fn is_claim(text: &str, start: usize, word: &str) -> bool {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let capitalized = word.chars().next().is_some_and(char::is_uppercase);
    capitalized && !opens_sentence(text, start) && !is_first_person(word)
}

fn is_first_person(word: &str) -> bool {
    matches!(key(word).as_str(), "i" | "i'm" | "i've" | "i'd" | "i'll")
}

/// Whether the word at byte `start` opens a sentence: nothing but spaces, quotes and brackets
/// before it since the text's start, a line break or a sentence's end.
fn opens_sentence(text: &str, start: usize) -> bool {
    for c in text[..start].chars().rev() {
        match c {
            '\n' | '.' | '!' | '?' | ':' => return true,
            c if c.is_whitespace() => continue,
            '"' | '\'' | '\u{201c}' | '\u{2018}' | '(' | '[' | '*' | '_' => continue,
            _ => return false,
        }
    }
    true
}

/// The words of `text` with their byte offsets: letters, digits and `'` `-` `%` inside a word,
/// and `.` or `,` between two digits ("4.05", "1,200"); quotes and dashes at the ends trimmed.
fn words(text: &str) -> Vec<(usize, &str)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let inside = |i: usize| {
        let c = chars[i].1;
        let digit_at = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|(_, c)| c.is_ascii_digit());
        c.is_alphanumeric()
            || matches!(c, '\'' | '\u{2019}' | '-' | '%')
            || (matches!(c, '.' | ',') && digit_at(i.checked_sub(1)) && digit_at(Some(i + 1)))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !inside(i) {
            i += 1;
            continue;
        }
        let begin = chars[i].0;
        while i < chars.len() && inside(i) {
            i += 1;
        }
        let end = chars.get(i).map_or(text.len(), |(at, _)| *at);
        let raw = &text[begin..end];
        let word = raw.trim_start_matches(['\'', '\u{2019}', '-']).trim_end_matches(['\'', '\u{2019}', '-']);
        if !word.is_empty() {
            out.push((begin + (raw.len() - raw.trim_start_matches(['\'', '\u{2019}', '-']).len()), word));
        }
    }
    out
}

fn without_possessive(word: &str) -> &str {
    word.strip_suffix("'s").or_else(|| word.strip_suffix("\u{2019}s")).unwrap_or(word)
}

/// How two words compare: case, curly apostrophes and a possessive aside.
fn key(word: &str) -> String {
    without_possessive(word).replace('\u{2019}', "'").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLD: &[&str] = &[
        "You are the demo twin of Ada Okonkwo-Lindqvist, a software engineer in Gothenburg.",
        "Notes from my own pages:\n[About] I keep Gunnar, a sourdough starter, since 2019. My rye is 20% rye.\n\nWhat's your blood type?",
    ];

    #[test]
    fn a_reply_may_go_on_into_a_told_name_or_number_but_not_an_untold_one() {
        let known = known(TOLD);
        for begun in
            ["I keep Gun", "I keep Gunnar", "I keep Gunnar,", "since 20", "since 2019", "I live in", "My rye is 20%"]
        {
            assert!(may_continue(begun, &known, false), "{begun}");
        }
        for begun in
            ["I'm a female, 45", "My father is Samuel", "My father is Sam ", "since 1987", "I keep Gunnar since 2018"]
        {
            assert!(!may_continue(begun, &known, false), "{begun}");
        }
        assert!(
            may_continue("I keep Gun", &known, false) && !may_continue("I keep Gun", &known, true),
            "ended: a whole word"
        );
        assert!(may_continue("Samuel", &known, true), "a sentence's first word is not checked");
        assert!(may_continue("", &known, true));
    }

    #[test]
    fn an_invented_number_or_name_is_unsupported_and_a_told_one_is_not() {
        assert_eq!(unsupported("I'm a female, 45% male.", TOLD), ["45%"]);
        assert_eq!(unsupported("I've fed Gunnar since 2019, 20% rye.", TOLD), Vec::<String>::new());
        assert_eq!(
            unsupported("I use 2% dry matter as per the World Health Organization's guidelines.", TOLD),
            ["2%", "World", "Health", "Organization"]
        );
        assert_eq!(unsupported("My father is Samuel Okonkwo.", TOLD), ["Samuel"]);
        assert_eq!(unsupported("I'm 5'10\" and 4.05 m tall, 1,200 times.", TOLD), ["5'10", "4.05", "1,200"]);
    }

    #[test]
    fn sentence_openers_first_person_and_lowercase_words_are_not_claims() {
        for reply in [
            "Small tools, slow bread, old maps.",
            "Yes. Sure! Maybe? \"Quite\" so: Honestly.\nNever mind",
            "I think I'm right, and I'd say I'll be fine; I've been.",
            "a grey tabby cat called mercator",
        ] {
            assert_eq!(unsupported(reply, TOLD), Vec::<String>::new(), "{reply}");
        }
    }

    #[test]
    fn words_compare_without_case_curly_apostrophes_or_possessives() {
        assert_eq!(
            unsupported("That is Ada\u{2019}s, from GOTHENBURG and Paris, not okonkwo-lindqvist", TOLD),
            ["Paris"]
        );
        assert_eq!(unsupported("It was Gunnar's, and Gunnar\u{2019}s again, since 2019.", TOLD), Vec::<String>::new());
        let told = ["Tärnan is my boat."];
        assert_eq!(unsupported("I sail on Tärnan and Tärnan's sister Öland.", &told), ["Öland"]);
    }

    #[test]
    fn each_claim_is_listed_once_in_order() {
        assert_eq!(unsupported("Then 7, then Oslo, then 7 and Oslo's 9.", &[]), ["7", "Oslo", "9"]);
        assert_eq!(unsupported("", TOLD), Vec::<String>::new());
    }
}

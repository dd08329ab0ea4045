//! What a visitor's question asks, read from its words: the kind of fact (a number, a time, a name,
//! a colour) and whether a text holds one; whether it is about the twin's person; whether it asks
//! who the twin is. The answerability decision (`answerable.rs`) and `told_only` read these.

use super::lexical;

/// What kind of fact a question asks for, by its opening words: the notes must hold one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Wants {
    Number,
    Time,
    Name,
    Colour,
}

/// One table: a question opening (lowercase, after "and"/"so") and the kind of fact it wants.
/// "where" is left out: places are written as often in words ("by the sea") as in names.
const WANTS: &[(&str, Wants)] = &[
    ("how many", Wants::Number),
    ("how much", Wants::Number),
    ("how old", Wants::Number),
    ("how long", Wants::Number),
    ("how tall", Wants::Number),
    ("how far", Wants::Number),
    ("what age", Wants::Number),
    ("when", Wants::Time),
    ("what year", Wants::Time),
    ("which year", Wants::Time),
    ("what date", Wants::Time),
    ("since when", Wants::Time),
    ("who", Wants::Name),
    ("whose", Wants::Name),
    ("what colour", Wants::Colour),
    ("what color", Wants::Colour),
    ("which colour", Wants::Colour),
    ("which color", Wants::Colour),
];

const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
    "thirty", "forty", "fifty", "hundred", "thousand", "dozen", "half", "once", "twice",
];
const TIME_WORDS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "spring",
    "summer",
    "autumn",
    "winter",
    "ago",
    "since",
    "year",
    "years",
    "age",
    "childhood",
];
const COLOUR_WORDS: &[&str] = &[
    "red", "blue", "green", "yellow", "black", "white", "grey", "gray", "brown", "orange", "purple", "pink", "silver",
    "golden", "tabby", "ginger", "navy", "colour", "color",
];
/// Words that make a question about the twin itself (its person), not general knowledge.
const SECOND_PERSON: &[&str] = &["you", "your", "yours", "yourself", "u", "ur", "youre", "you're", "you've", "you'd"];

/// Whether a question asks for a kind of fact (a number, a time, a name, a colour).
pub fn asks_kind(question: &str) -> bool {
    wants(question).is_some()
}

pub(super) fn wants(question: &str) -> Option<Wants> {
    let lower = question.to_lowercase();
    let lower = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = lower.strip_prefix("and ").or_else(|| lower.strip_prefix("so ")).unwrap_or(lower);
    WANTS.iter().find(|(opening, _)| lower.starts_with(opening)).map(|(_, w)| *w)
}

pub(super) fn holds(notes: &str, want: Wants) -> bool {
    let words: Vec<&str> = notes.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    let lower = |w: &&str| w.to_lowercase();
    match want {
        Wants::Number => {
            words.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&lower(w).as_str()))
        }
        Wants::Time => words.iter().any(|w| {
            (w.len() == 4 && w.chars().all(|c| c.is_ascii_digit())) || TIME_WORDS.contains(&lower(w).as_str())
        }),
        Wants::Name => names(notes),
        Wants::Colour => words.iter().any(|w| COLOUR_WORDS.contains(&lower(w).as_str())),
    }
}

/// Whether `text` has a capitalized word that does not open a sentence (a name).
fn names(text: &str) -> bool {
    let mut after_stop = true;
    for word in text.split_whitespace() {
        let first = word.trim_start_matches(|c: char| !c.is_alphanumeric());
        if !after_stop
            && first.chars().next().is_some_and(char::is_uppercase)
            && first != "I"
            && !first.starts_with("I'")
        {
            return true;
        }
        after_stop = word.ends_with(['.', '!', '?', ':']) || word == "A:" || word == "Q:";
    }
    false
}

/// The words that open a question asking for a detail (not yes or no).
const WH_WORDS: &[&str] = &[
    "what", "what's", "whats", "wat", "which", "wich", "who", "who's", "whom", "whose", "when", "where", "where's",
    "wher", "why", "how",
];

/// Whether a question is about the twin's person: it says "you", or names something of the notes
/// ("What breed is Mercator?"). What the twin says of itself is held to what it was told
/// (`told_only`); "What is the capital of France?" is not.
pub fn about_the_twin(question: &str, notes: &str) -> bool {
    let lower = question.to_lowercase();
    if lower.split(|c: char| !c.is_alphanumeric() && c != '\'').any(|w| SECOND_PERSON.contains(&w)) {
        return true;
    }
    let note_terms: std::collections::HashSet<String> = lexical::terms(notes).into_iter().collect();
    question
        .split_whitespace()
        .skip(1)
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .flat_map(lexical::terms)
        .any(|t| note_terms.contains(&t))
}

/// Whether a question asks the twin's person for a detail: a wh-question ("What breed ...", not
/// "You're ChatGPT, right?", which the twin answers from who it is) about the twin. Only such a
/// question is refused for notes that do not answer it.
pub fn personal(question: &str, notes: &str) -> bool {
    let lower = question.to_lowercase();
    let asks = lower.split(|c: char| !c.is_alphanumeric() && c != '\'').any(|w| WH_WORDS.contains(&w));
    asks && about_the_twin(question, notes)
}

/// Openings of a question about who the twin is: "who are you", "whos this", "who am I talking to".
/// The twin answers these from its system prompt, never with "I don't know".
const WHO_ASKS: &[(&str, &str)] =
    &[("who", "are"), ("who", "r"), ("what", "are"), ("who", "is"), ("who's", "this"), ("whos", "this"), ("who", "am")];
/// A word within two after a `WHO_ASKS` opening that makes it ask for the one answering ("who is
/// actually answering", "who are you"), not a person of the notes ("who is your boss").
const WHO_IS_ANSWERING: &[&str] =
    &["you", "u", "this", "i", "answering", "typing", "speaking", "talking", "chatting", "writing", "replying"];
/// A verb that, followed by "you", asks for the twin's maker ("which company built you").
#[rustfmt::skip]
const MADE: &[&str] = &[
    "made", "make", "built", "build", "created", "create", "trained", "train", "developed", "develop",
    "programmed", "designed", "wrote",
];
/// Words that make "... built you" ask for the twin's maker ("which company built you"), not a
/// story ("which book made you suspicious").
const MAKER: &[&str] = &["who", "company", "team", "lab", "people", "firm", "organisation", "organization"];
/// What the twin is, asked in other words ("what model are you", "which persona is this").
#[rustfmt::skip]
const WHAT_IT_IS: &[&str] = &[
    "ai", "bot", "chatbot", "robot", "human", "llm", "gpt", "chatgpt", "assistant", "persona", "model",
];
/// Asked to present itself ("please introduce yourself", "give me an intro").
const PRESENT: &[&str] = &["introduce", "introduction", "intro", "describe"];

fn words(question: &str) -> Vec<String> {
    question
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('\u{2019}', "'"))
        .collect()
}

/// Whether a question asks who or what the twin is, or who made it: such a question is never
/// refused for want of notes (the answer is the twin's own, from its system prompt).
pub fn identity(question: &str) -> bool {
    let w = words(question);
    let second = w.iter().any(|x| SECOND_PERSON.contains(&x.as_str()) || x == "this");
    let pair = |i: usize| (w[i].as_str(), w.get(i + 1).map_or("", String::as_str));
    (0..w.len()).any(|i| {
        let (a, b) = pair(i);
        let who = WHO_ASKS.contains(&(a, b))
            && w[i + 1..]
                .iter()
                .skip(if b == "this" { 0 } else { 1 })
                .take(2)
                .any(|x| WHO_IS_ANSWERING.contains(&x.as_str()));
        let you = b == "you" || b == "u";
        let maker = MADE.contains(&a) && you && (i + 2 == w.len() || w.iter().any(|x| MAKER.contains(&x.as_str())));
        let name = (a == "your" || a == "ur") && b == "name" || (a == "call" && you) || (a, b) == ("go", "by");
        let present = PRESENT.contains(&a) && (b == "yourself" || b == "urself" || you || b == "this")
            || (a == "of" || a == "an" || a == "about") && b == "yourself";
        who || maker || name || present
    }) || second && w.iter().any(|x| WHAT_IT_IS.contains(&x.as_str()))
}

/// Whether a personal question asks for a fact ("where do you live?") rather than small talk,
/// an opinion or what the twin can do ("how are you?", "what do you think of Rust?", "what can
/// you do?"): only a fact can be missing from the notes.
pub fn asks_fact(question: &str) -> bool {
    let w = words(question);
    let Some(first) = w.iter().position(|x| WH_WORDS.contains(&x.as_str())) else { return false };
    let opens = w[first].as_str();
    let how_fact = opens == "how" && w.get(first + 1).is_some_and(|x| HOW_FACT.contains(&x.as_str()));
    (opens != "how" && opens != "why" || how_fact) && !w.iter().any(|x| NOT_A_FACT.contains(&x.as_str()))
}

/// "how" followed by one of these asks for a number ("how many", "how old").
const HOW_FACT: &[&str] = &["many", "much", "old", "long", "tall", "far", "often"];
/// Words of a question that asks an opinion, a wish or an ability, which no note is missing.
const NOT_A_FACT: &[&str] = &[
    "think",
    "feel",
    "like",
    "love",
    "prefer",
    "recommend",
    "suggest",
    "enjoy",
    "mean",
    "want",
    "can",
    "could",
    "would",
    "should",
    "opinion",
    "advice",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_wants_the_kind_of_fact_its_opening_asks() {
        assert_eq!(wants("How old is Mercator?"), Some(Wants::Number));
        assert_eq!(wants("and when did you start sailing?"), Some(Wants::Time));
        assert_eq!(wants("What colour is Tärnan's hull?"), Some(Wants::Colour));
        assert_eq!(wants("What breed is Mercator?"), None);
        assert!(holds("I was born in Uppsala in 1991.", Wants::Time));
        assert!(!holds("My cat is called Mercator.", Wants::Number));
        assert!(holds("My cat is called Mercator.", Wants::Name));
        assert!(!holds("I. Like. Bread.", Wants::Name), "sentence openings are not names");
    }

    #[test]
    fn a_question_is_personal_when_it_asks_you_or_the_notes_for_a_detail() {
        let notes = "My cat is called Mercator.";
        assert!(personal("What breed is Mercator?", notes));
        assert!(personal("where do u live", notes));
        assert!(!personal("What is the capital of France?", notes));
        assert!(!personal("You're ChatGPT, right?", notes), "yes or no: the twin answers who it is");
        assert!(!personal("Please introduce yourself.", notes));
        assert!(about_the_twin("You're ChatGPT, right?", notes) && about_the_twin("Is Mercator grey?", notes));
        assert!(!about_the_twin("What is a cat?", notes));
    }

    #[test]
    fn who_the_twin_is_is_asked_in_many_ways_and_a_person_of_the_notes_is_not() {
        for q in [
            "Who am I chatting with right now?",
            "What name do you go by?",
            "What are you, exactly?",
            "Which company built you, OpenAI or Anthropic?",
            "whos this",
            "Sorry, remind me who is actually answering me?",
            "Please introduce yourself.",
            "What's your name?",
        ] {
            assert!(identity(q), "{q}");
        }
        for q in [
            "Who is your boss?",
            "What's your cat's name?",
            "Where do you live?",
            "Who do you sail with?",
            "Which book made you suspicious of dashboards?",
            "Have you visited Lagos yourself?",
        ] {
            assert!(!identity(q), "{q}");
        }
    }

    #[test]
    fn a_fact_is_asked_by_what_where_when_and_how_many_not_by_how_or_an_opinion() {
        for q in [
            "Where do you live?",
            "What's your blood type?",
            "How many siblings do you have?",
            "Which car do you drive?",
            "What's your favourite film?",
        ] {
            assert!(asks_fact(q), "{q}");
        }
        for q in ["How are you?", "What do you think of Rust?", "What can you do?", "Why?", "Tell me a joke"] {
            assert!(!asks_fact(q), "{q}");
        }
    }
}

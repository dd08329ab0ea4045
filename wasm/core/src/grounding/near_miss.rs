//! Questions the author's notes cannot answer, generated from the author's own Q&A so that every
//! author gets them without writing any: a detail of a topic they wrote about ("How old is
//! Mercator?" where only the cat's name is written), and personal details nobody's notes hold by
//! default. `fit.rs` keeps a candidate only where the notes retrieved for it lack the detail's words
//! and the kind of fact it asks for, so a persona that does write its cat's age loses that one.

use super::lexical;

/// A question form, and the words whose presence in its notes would mean they may answer it.
struct Template {
    text: &'static str,
    evidence: &'static [&'static str],
}

/// About a name the author wrote ("{}" is the name).
const ABOUT_A_NAME: &[Template] = &[
    Template { text: "What breed is {}?", evidence: &["breed", "kind", "type"] },
    Template { text: "How old is {}?", evidence: &["old", "age", "born", "year"] },
    Template { text: "What colour is {}?", evidence: &["colour", "color"] },
    Template { text: "How much did {} cost?", evidence: &["cost", "price", "paid", "kronor", "euro", "dollar"] },
    Template { text: "What is {}'s favourite food?", evidence: &["food", "eat", "favourite", "favorite"] },
    Template { text: "What year did {} start?", evidence: &["year", "start", "began", "since", "founded"] },
    Template { text: "Who else knows {} well?", evidence: &["friend", "know", "knows"] },
];

/// About something the author calls theirs ("my boat": "{}" is "boat").
const ABOUT_A_THING: &[Template] = &[
    Template { text: "What colour is your {}?", evidence: &["colour", "color"] },
    Template { text: "How old is your {}?", evidence: &["old", "age", "year"] },
    Template { text: "How much did your {} cost?", evidence: &["cost", "price", "paid"] },
    Template { text: "What brand is your {}?", evidence: &["brand", "make", "made"] },
    Template { text: "Where did you buy your {}?", evidence: &["buy", "bought", "shop", "store"] },
];

/// Personal details, asked of any author.
const PERSONAL: &[Template] = &[
    Template { text: "What is your blood type?", evidence: &["blood"] },
    Template { text: "What is your shoe size?", evidence: &["shoe"] },
    Template { text: "Which football team do you support?", evidence: &["football", "team"] },
    Template { text: "What is your middle name?", evidence: &["middle"] },
    Template { text: "What car do you drive?", evidence: &["car", "drive"] },
    Template { text: "How much do you earn?", evidence: &["earn", "salary", "pay"] },
    Template { text: "What is your star sign?", evidence: &["star", "sign", "zodiac"] },
    Template { text: "What is your sister's name?", evidence: &["sister", "sibling"] },
    Template { text: "What did you have for breakfast today?", evidence: &["breakfast"] },
    Template { text: "What is your phone number?", evidence: &["phone"] },
    Template { text: "Who was your first teacher?", evidence: &["teacher"] },
    Template { text: "What is your favourite film?", evidence: &["film", "movie"] },
];

/// A generated question and the stems that would let its notes answer it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub question: String,
    pub evidence: Vec<String>,
}

/// Names in `answers` (capitalized words not opening a sentence) and the things after "my",
/// each once, in order of first appearance.
fn topics(answers: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut names, mut things) = (Vec::new(), Vec::new());
    for answer in answers {
        let words: Vec<&str> = answer.split_whitespace().collect();
        for (i, raw) in words.iter().enumerate() {
            let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
            let word = word.strip_suffix("'s").unwrap_or(word);
            let opens = i == 0 || words[i - 1].ends_with(['.', '!', '?', ':', ';']);
            if !opens
                && word.len() > 2
                && word.chars().next().is_some_and(char::is_uppercase)
                && word.chars().all(char::is_alphabetic)
                && !names.iter().any(|n| n == word)
            {
                names.push(word.to_string());
            }
            if i > 0
                && words[i - 1].eq_ignore_ascii_case("my")
                && word.len() > 2
                && word.chars().all(|c| c.is_ascii_lowercase())
                && !lexical::terms(word).is_empty()
                && !things.iter().any(|t| t == word)
            {
                things.push(word.to_string());
            }
        }
    }
    (names, things)
}

fn candidate(template: &Template, topic: &str) -> Candidate {
    let evidence = template.evidence.iter().flat_map(|w| lexical::terms(w)).collect();
    Candidate { question: template.text.replace("{}", topic), evidence }
}

/// Every near-miss candidate for a persona whose Q&A answers are `answers` (all seeds' answers,
/// in file order), each question once: personal ones first, then each topic's.
pub fn candidates(answers: &[String]) -> Vec<Candidate> {
    let (names, things) = topics(answers);
    let mut out: Vec<Candidate> = PERSONAL.iter().map(|t| candidate(t, "")).collect();
    for name in &names {
        out.extend(ABOUT_A_NAME.iter().map(|t| candidate(t, name)));
    }
    for thing in &things {
        out.extend(ABOUT_A_THING.iter().map(|t| candidate(t, thing)));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.question.clone()));
    out
}

/// Whether notes (their stems) hold any of a candidate's evidence.
pub fn answered_by(candidate: &Candidate, note_terms: &std::collections::HashSet<String>) -> bool {
    candidate.evidence.iter().any(|e| note_terms.contains(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_things_of_the_answers_become_near_miss_questions() {
        let answers =
            vec!["My cat is called Mercator, after the mapmaker.".to_string(), "I sail my boat Tärnan.".into()];
        let (names, things) = topics(&answers);
        assert_eq!(names, ["Mercator", "Tärnan"]);
        assert_eq!(things, ["cat", "boat"]);
        let questions: Vec<String> = candidates(&answers).into_iter().map(|c| c.question).collect();
        assert!(questions.contains(&"What breed is Mercator?".to_string()));
        assert!(questions.contains(&"What colour is your boat?".to_string()));
        assert!(questions.contains(&"What is your blood type?".to_string()));
        assert_eq!(questions.len(), questions.iter().collect::<std::collections::HashSet<_>>().len());
    }

    #[test]
    fn notes_with_the_detail_answer_a_candidate() {
        let c = candidate(&ABOUT_A_NAME[1], "Mercator");
        let has = |text: &str| lexical::terms(text).into_iter().collect();
        assert!(answered_by(&c, &has("Mercator is nine years old")));
        assert!(!answered_by(&c, &has("My cat is called Mercator")));
    }
}

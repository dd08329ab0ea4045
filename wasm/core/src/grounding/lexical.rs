//! Word-overlap scoring (BM25) of a question against every passage. It finds the exact
//! names visitors type ("Mercator", "tidewater") that a small embedding model blurs;
//! paraphrases are the embedding's job (`mod.rs` blends the two).

use std::collections::HashMap;

use super::index::Passage;

/// BM25's usual constants: term-frequency saturation and length normalization.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Words that carry no topic; dropped from questions and passages alike.
const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do",
    "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "just", "me", "my", "of", "on", "or", "our", "she", "so", "some", "than", "that", "the", "their", "them",
    "then", "there", "they", "this", "to", "u", "ur", "us", "was", "we", "were", "what", "when", "where", "which",
    "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "youre", "q", "s", "t", "tell",
];

/// Lowercased words without stopwords, each cut to a crude stem so that "maps" meets "map"
/// and "baking" meets "bake" (the same cut on both sides is all that matters).
pub fn terms(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
        .map(stem)
        .collect()
}

fn stem(word: &str) -> String {
    let n = word.chars().count();
    let mut out = word;
    for (suffix, min_len) in [("ing", 6), ("ed", 5), ("es", 5), ("s", 4)] {
        if n >= min_len && word.ends_with(suffix) && !word.ends_with("ss") {
            out = &word[..word.len() - suffix.len()];
            break;
        }
    }
    // "bake" and "bak(ing)", "tide" and "tid(es)": a final e goes too.
    if out.chars().count() >= 4 && out.ends_with('e') {
        out = &out[..out.len() - 1];
    }
    out.to_string()
}

pub struct Lexical {
    docs: Vec<HashMap<String, f32>>,
    lengths: Vec<f32>,
    average_length: f32,
    document_frequency: HashMap<String, f32>,
}

impl Lexical {
    pub fn new(passages: &[Passage]) -> Self {
        let mut docs = Vec::with_capacity(passages.len());
        let mut lengths = Vec::with_capacity(passages.len());
        let mut document_frequency: HashMap<String, f32> = HashMap::new();
        for p in passages {
            let words = terms(&format!("{} {}", p.title, p.text));
            let mut counts: HashMap<String, f32> = HashMap::new();
            for w in &words {
                *counts.entry(w.clone()).or_default() += 1.0;
            }
            for w in counts.keys() {
                *document_frequency.entry(w.clone()).or_default() += 1.0;
            }
            lengths.push(words.len() as f32);
            docs.push(counts);
        }
        let average_length = (lengths.iter().sum::<f32>() / lengths.len().max(1) as f32).max(1.0);
        Self { docs, lengths, average_length, document_frequency }
    }

    /// Whether any passage has the term (a stem of `terms`).
    pub fn knows(&self, term: &str) -> bool {
        self.document_frequency.contains_key(term)
    }

    fn idf(&self, term: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.document_frequency.get(term).copied().unwrap_or(0.0);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Each passage's BM25 score for `query`, divided by the most any passage could score
    /// (every query term present, saturated): 0 = no shared word, 1 = all of them.
    pub fn scores(&self, query: &str) -> Vec<f32> {
        let mut query_terms = terms(query);
        query_terms.sort();
        query_terms.dedup();
        // A word no passage has cannot be matched by any: it does not count against them (a typo,
        // a filler word), and a question made only of such words scores 0 everywhere.
        query_terms.retain(|t| self.document_frequency.contains_key(t));
        let weights: Vec<f32> = query_terms.iter().map(|t| self.idf(t)).collect();
        let most = weights.iter().sum::<f32>() * (K1 + 1.0);
        if most <= 0.0 {
            return vec![0.0; self.docs.len()];
        }
        self.docs
            .iter()
            .zip(&self.lengths)
            .map(|(counts, len)| {
                let norm = K1 * (1.0 - B + B * len / self.average_length);
                let score: f32 = query_terms
                    .iter()
                    .zip(&weights)
                    .filter_map(|(t, idf)| counts.get(t).map(|tf| idf * tf * (K1 + 1.0) / (tf + norm)))
                    .sum();
                score / most
            })
            .collect()
    }
}

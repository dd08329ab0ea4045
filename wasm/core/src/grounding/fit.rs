//! Fitting the answerability model (`answerable.rs`) for one site, in a second on a CPU: the
//! author's Q&A wordings whose own passage retrieval finds are "the notes answer it"; the
//! near-miss questions generated from the same Q&A (`near_miss.rs`) whose notes lack the detail
//! are "they do not". A logistic regression over the standardized features, each class weighted
//! equally, then two thresholds read off the fitting set: at most `MAY_REFUSE` of the answerable
//! wordings fall below `refuse_below`, at most `MAY_FORCE` of the near-misses reach `answer_above`.
//! Deterministic (fixed steps, f64, no randomness): the same index and seeds give the same file.

use serde::Deserialize;

use super::answerable::{Features, Model, FEATURES};
use super::near_miss;
use super::{lexical, Grounding, Limits};
use crate::error::{Error, Result};

/// Share of the author's answerable wordings the model may send to a refusal.
pub const MAY_REFUSE: f64 = 0.05;
/// Share of the near-misses the model may force to an answer: none. Measured on the tuning
/// canaries with the 135M twin (docs/experiments/2026-12-07-truthful-by-construction.md), the
/// "answer" side at 5% turned 4 refused known facts into answers and 6 honest refusals into
/// inventions; the "refuse" side gained 7 honest answers for 2 known facts.
pub const MAY_FORCE: f64 = 0.0;
const STEPS: usize = 3000;
const RATE: f64 = 0.5;
const L2: f64 = 0.01;

/// A Q&A seed as `seeds.jsonl` writes it (other keys are the data build's business).
#[derive(Debug, Clone, Deserialize)]
pub struct Seed {
    pub q: Vec<String>,
    pub a: Vec<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

/// The seeds of a `seeds.jsonl` text; a bad line is named by its number.
pub fn read_seeds(text: &str) -> Result<Vec<Seed>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let seed: Seed = serde_json::from_str(line)
            .map_err(|e| Error::Invalid(format!("line {}: not a seed {{\"q\": [...], \"a\": [...]}}: {e}", i + 1)))?;
        if seed.q.is_empty() || seed.a.is_empty() {
            return Err(Error::Invalid(format!("line {}: a seed needs at least one question and one answer", i + 1)));
        }
        out.push(seed);
    }
    Ok(out)
}

/// The fitting examples: features and whether the notes answer.
pub fn examples(grounding: &Grounding, seeds: &[Seed], limits: &Limits) -> Result<Vec<(Features, bool)>> {
    let facts: Vec<&Seed> = seeds.iter().filter(|s| s.kind.as_deref().is_none_or(|k| k == "fact")).collect();
    let mut out = Vec::new();
    for seed in &facts {
        // Its own passage holds "A: <first answer>"; a wording whose notes miss it says nothing of
        // whether notes that hold an answer are recognised.
        let marker: String = seed.a[0].split_whitespace().take(8).collect::<Vec<_>>().join(" ");
        // The first wording is in the passage itself ("Q: ..."): the others ask it as a visitor
        // might, in other words.
        for q in seed.q.iter().skip(1) {
            let decision = grounding.assess(q, limits, &[])?;
            if let Some((features, notes)) = decision {
                if notes.iter().any(|n| n.split_whitespace().collect::<Vec<_>>().join(" ").contains(&marker)) {
                    out.push((features, true));
                }
            }
        }
    }
    let answers: Vec<String> = facts.iter().flat_map(|s| s.a.iter().cloned()).collect();
    for candidate in near_miss::candidates(&answers) {
        if let Some((features, notes)) = grounding.assess(&candidate.question, limits, &[])? {
            let held = lexical::terms(&notes.join(" ")).into_iter().collect();
            // Left out: notes that may answer it (they have its detail's words, or the kind of
            // fact it asks for, such as a number for "How old ...").
            let lacks_kind = features.0[5] == 0.0 || !super::asks::asks_kind(&candidate.question);
            if !near_miss::answered_by(&candidate, &held) && lacks_kind {
                out.push((features, false));
            }
        }
    }
    Ok(out)
}

/// The site's model: fitted on `seeds` (the text of its seeds.jsonl) over `grounding`, retrieved as
/// the page retrieves (`LIMITS`). What `tabtwin grounding fit` writes.
pub fn fit_site(grounding: &Grounding, seeds: &str) -> Result<Model> {
    fit(&examples(grounding, &read_seeds(seeds)?, &super::LIMITS)?)
}

/// The model for `examples` (both classes needed).
pub fn fit(examples: &[(Features, bool)]) -> Result<Model> {
    let positives = examples.iter().filter(|(_, y)| *y).count();
    let negatives = examples.len() - positives;
    if positives < 5 || negatives < 5 {
        return Err(Error::Invalid(format!(
            "too few examples to fit the answerability model: {positives} answerable Q&A wordings and {negatives} near-miss questions (need 5 of each: add Q&A seeds)"
        )));
    }
    let n = FEATURES.len();
    let rows: Vec<Vec<f64>> = examples.iter().map(|(f, _)| f.0.iter().map(|&x| x as f64).collect()).collect();
    let mean: Vec<f64> = (0..n).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / rows.len() as f64).collect();
    let scale: Vec<f64> = (0..n)
        .map(|j| {
            let var = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / rows.len() as f64;
            if var > 1e-12 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let x: Vec<Vec<f64>> = rows.iter().map(|r| (0..n).map(|j| (r[j] - mean[j]) / scale[j]).collect()).collect();
    let weight_of = |y: bool| if y { 0.5 / positives as f64 } else { 0.5 / negatives as f64 };
    let (mut w, mut b) = (vec![0.0f64; n], 0.0f64);
    for _ in 0..STEPS {
        let mut grad = vec![0.0; n];
        let mut grad_b = 0.0;
        for (xi, (_, y)) in x.iter().zip(examples) {
            let z = b + xi.iter().zip(&w).map(|(a, c)| a * c).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let err = (p - if *y { 1.0 } else { 0.0 }) * weight_of(*y);
            grad.iter_mut().zip(xi).for_each(|(g, a)| *g += err * a);
            grad_b += err;
        }
        w.iter_mut().zip(&grad).for_each(|(wj, g)| *wj -= RATE * (g + L2 * *wj));
        b -= RATE * grad_b;
    }
    let mut model = Model {
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        mean: mean.iter().map(|&v| v as f32).collect(),
        scale: scale.iter().map(|&v| v as f32).collect(),
        weights: w.iter().map(|&v| v as f32).collect(),
        bias: b as f32,
        refuse_below: 0.0,
        answer_above: 1.0,
        fitted: serde_json::Value::Null,
    };
    let mut pos: Vec<f32> = examples.iter().filter(|(_, y)| *y).map(|(f, _)| model.probability(f)).collect();
    let mut neg: Vec<f32> = examples.iter().filter(|(_, y)| !*y).map(|(f, _)| model.probability(f)).collect();
    pos.sort_by(f32::total_cmp);
    neg.sort_by(|a, b| b.total_cmp(a));
    model.refuse_below = pos[(MAY_REFUSE * pos.len() as f64).floor() as usize];
    model.answer_above = (neg[(MAY_FORCE * neg.len() as f64).floor() as usize] + 1e-6).min(1.0);
    debug_assert!(MAY_FORCE > 0.0 || neg.iter().all(|p| *p < model.answer_above) || model.answer_above == 1.0);
    let refused = pos.iter().filter(|p| **p < model.refuse_below).count();
    let forced = neg.iter().filter(|p| **p >= model.answer_above).count();
    model.fitted = serde_json::json!({
        "answerable": positives,
        "near_miss": negatives,
        "may_refuse": MAY_REFUSE,
        "may_force": MAY_FORCE,
        "answerable_refused": refused,
        "near_miss_forced": forced,
        "answerable_sure": pos.iter().filter(|p| **p >= model.answer_above).count(),
        "near_miss_sure": neg.iter().filter(|p| **p < model.refuse_below).count(),
    });
    model.check()?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(coverage: f32, y: bool) -> (Features, bool) {
        (Features([0.5, 0.5, 0.5, coverage, 0.0, 1.0, 0.5]), y)
    }

    #[test]
    fn the_fit_separates_what_its_features_separate_and_is_deterministic() {
        let mut data: Vec<(Features, bool)> = (0..20).map(|i| example(0.7 + 0.015 * i as f32, true)).collect();
        data.extend((0..30).map(|i| example(0.1 + 0.01 * i as f32, false)));
        let model = fit(&data).unwrap();
        assert!(model.weights[3] > 0.0, "coverage should count for answering: {model:?}");
        assert!(model.probability(&example(1.0, true).0) >= model.answer_above);
        assert!(model.probability(&example(0.0, false).0) < model.refuse_below);
        assert_eq!(fit(&data).unwrap(), model);
    }

    #[test]
    fn too_few_examples_are_refused_with_the_counts() {
        let err = fit(&[example(1.0, true), example(0.0, false)]).unwrap_err().to_string();
        assert!(err.contains("1 answerable") && err.contains("1 near-miss"), "{err}");
    }

    #[test]
    fn a_bad_seed_line_is_named() {
        let err = read_seeds("{\"q\": [\"a?\"], \"a\": [\"b\"]}\n\n{\"q\": []}\n").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }
}

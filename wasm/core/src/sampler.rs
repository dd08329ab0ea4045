//! Choosing the next token. Greedy by default, because a twin should answer the
//! same question the same way; temperature / top-k / top-p with a seed when asked.
//! The repeat penalty ranges over *generated* tokens only: applied to the prompt
//! it punished the owner's name from the system prompt until the twin could not
//! say it (the reference system's bug).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingOptions {
    /// 0 means greedy.
    pub temperature: f32,
    /// 0 means no top-k cut.
    pub top_k: usize,
    /// 1.0 means no nucleus cut.
    pub top_p: f32,
    /// 1.0 means no penalty.
    pub repeat_penalty: f32,
    /// How many of the most recent generated tokens the penalty looks at.
    pub repeat_last_n: usize,
    pub seed: u64,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        Self { temperature: 0.0, top_k: 0, top_p: 1.0, repeat_penalty: 1.0, repeat_last_n: 64, seed: 42 }
    }
}

/// How many picks a constraint may refuse for one token.
const MAX_REFUSED: usize = 24;

pub struct Sampler {
    options: SamplingOptions,
    rng: SplitMix64,
}

impl Sampler {
    pub fn new(options: SamplingOptions) -> Self {
        let rng = SplitMix64(options.seed);
        Self { options, rng }
    }

    /// Pick the next token from `logits`; `generated` holds this reply's tokens so far.
    pub fn sample(&mut self, logits: &mut [f32], generated: &[u32]) -> u32 {
        self.apply_repeat_penalty(logits, generated);
        self.pick(logits)
    }

    /// `sample`, among the tokens `allowed` accepts: a refused pick is taken out and the choice
    /// made again, up to `MAX_REFUSED` times (then the next pick stands, so a reply never stalls).
    pub fn sample_allowed(&mut self, logits: &mut [f32], generated: &[u32], allowed: impl Fn(u32) -> bool) -> u32 {
        self.apply_repeat_penalty(logits, generated);
        for _ in 0..MAX_REFUSED {
            let token = self.pick(logits);
            if allowed(token) {
                return token;
            }
            if let Some(l) = logits.get_mut(token as usize) {
                *l = f32::NEG_INFINITY;
            }
        }
        self.pick(logits)
    }

    fn pick(&mut self, logits: &[f32]) -> u32 {
        if self.options.temperature <= 0.0 {
            return argmax(logits);
        }
        let mut candidates: Vec<(u32, f32)> =
            logits.iter().enumerate().map(|(i, l)| (i as u32, l / self.options.temperature)).collect();
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
        if self.options.top_k > 0 {
            candidates.truncate(self.options.top_k);
        }
        let max = candidates[0].1;
        let mut probs: Vec<f32> = candidates.iter().map(|(_, l)| (l - max).exp()).collect();
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
        if self.options.top_p < 1.0 {
            let mut cumulative = 0.0;
            let keep = probs
                .iter()
                .position(|p| {
                    cumulative += p;
                    cumulative >= self.options.top_p
                })
                .map_or(probs.len(), |i| i + 1);
            probs.truncate(keep);
        }
        let total: f32 = probs.iter().sum();
        let mut target = self.rng.next_f32() * total;
        for (i, p) in probs.iter().enumerate() {
            target -= p;
            if target <= 0.0 {
                return candidates[i].0;
            }
        }
        candidates[probs.len() - 1].0
    }

    fn apply_repeat_penalty(&self, logits: &mut [f32], generated: &[u32]) {
        let penalty = self.options.repeat_penalty;
        if penalty == 1.0 {
            return;
        }
        let start = generated.len().saturating_sub(self.options.repeat_last_n);
        let mut seen = std::collections::HashSet::new();
        for &tok in &generated[start..] {
            if !seen.insert(tok) {
                continue;
            }
            if let Some(l) = logits.get_mut(tok as usize) {
                *l = if *l >= 0.0 { *l / penalty } else { *l * penalty };
            }
        }
    }
}

pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, l) in logits.iter().enumerate() {
        if *l > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Small, dependency-free and identical on every target, so a seed means the same everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_largest() {
        let mut s = Sampler::new(SamplingOptions::default());
        assert_eq!(s.sample(&mut [0.1, 3.0, -1.0], &[]), 1);
    }

    #[test]
    fn penalty_touches_generated_tokens_only() {
        let options = SamplingOptions { repeat_penalty: 2.0, ..Default::default() };
        let mut s = Sampler::new(options);
        // token 1 leads, but it was generated already: halved to 1.5 < 2.0
        assert_eq!(s.sample(&mut [0.0, 3.0, 2.0], &[1]), 2);
        // nothing generated yet: the prompt does not count
        assert_eq!(s.sample(&mut [0.0, 3.0, 2.0], &[]), 1);
    }

    #[test]
    fn a_refused_pick_gives_way_to_the_next_best_and_never_stalls() {
        let mut s = Sampler::new(SamplingOptions::default());
        assert_eq!(s.sample_allowed(&mut [0.1, 3.0, 2.0], &[], |t| t != 1), 2);
        assert_eq!(s.sample_allowed(&mut [0.1, 3.0, 2.0], &[], |_| false), 0, "after refusals, a pick stands");
    }

    #[test]
    fn seeded_sampling_repeats() {
        let options = SamplingOptions { temperature: 1.0, seed: 7, ..Default::default() };
        let logits = [1.0, 1.1, 0.9, 1.05];
        let draw = |opts: &SamplingOptions| {
            let mut s = Sampler::new(opts.clone());
            (0..20).map(|_| s.sample(&mut logits.clone(), &[])).collect::<Vec<_>>()
        };
        assert_eq!(draw(&options), draw(&options));
        assert!(draw(&options).iter().any(|t| *t != draw(&options)[0]), "temperature 1 should vary");
    }
}

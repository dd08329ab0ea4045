//! Rotary position embedding. The angles are computed per position when a batch is
//! fed (no table, so no fixed maximum: the context is whatever the file and the
//! caller allow). Two pairings exist: llama's GGUF rows are permuted so that
//! rotated pairs are adjacent (2i, 2i+1); qwen2/qwen3 pair i with i + d/2 (NEOX).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    Adjacent,
    Halves,
}

pub struct Rope {
    pairing: Pairing,
    /// Rotated dimensions per head (the first `dims` of each head).
    dims: usize,
    /// theta_i = base^(-2i/dims), as transformers computes it in f32.
    inverse_frequencies: Vec<f32>,
}

/// cos and sin of every (position, frequency) of a batch.
pub struct Angles {
    cos: Vec<f32>,
    sin: Vec<f32>,
    half: usize,
}

impl Rope {
    pub fn new(pairing: Pairing, dims: usize, base: f32) -> Self {
        let inverse_frequencies = (0..dims / 2).map(|i| 1.0 / libm::powf(base, (2 * i) as f32 / dims as f32)).collect();
        Self { pairing, dims, inverse_frequencies }
    }

    /// Linear scaling (`rope.scaling.type = linear`): every frequency divided by `factor`,
    /// as transformers' "linear" rope type does.
    pub fn linear(pairing: Pairing, dims: usize, base: f32, factor: f32) -> Self {
        let mut rope = Self::new(pairing, dims, base);
        for f in rope.inverse_frequencies.iter_mut() {
            *f /= factor;
        }
        rope
    }

    pub fn angles(&self, first_position: usize, tokens: usize) -> Angles {
        let half = self.dims / 2;
        let mut cos = Vec::with_capacity(tokens * half);
        let mut sin = Vec::with_capacity(tokens * half);
        for t in 0..tokens {
            let position = (first_position + t) as f32;
            for f in &self.inverse_frequencies {
                let angle = position * f;
                cos.push(libm::cosf(angle));
                sin.push(libm::sinf(angle));
            }
        }
        Angles { cos, sin, half }
    }

    /// Rotate every head of every token of `x` (tokens x heads x head_dim).
    pub fn apply(&self, x: &mut [f32], heads: usize, head_dim: usize, angles: &Angles) {
        let half = angles.half;
        for (t, token) in x.chunks_exact_mut(heads * head_dim).enumerate() {
            let cos = &angles.cos[t * half..(t + 1) * half];
            let sin = &angles.sin[t * half..(t + 1) * half];
            for head in token.chunks_exact_mut(head_dim) {
                for i in 0..half {
                    let (a, b) = match self.pairing {
                        Pairing::Adjacent => (2 * i, 2 * i + 1),
                        Pairing::Halves => (i, i + half),
                    };
                    let (x0, x1) = (head[a], head[b]);
                    head[a] = x0 * cos[i] - x1 * sin[i];
                    head[b] = x1 * cos[i] + x0 * sin[i];
                }
            }
        }
    }
}

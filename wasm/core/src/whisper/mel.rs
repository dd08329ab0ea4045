//! Whisper's log-mel spectrogram, written for one thread.
//!
//! Same definition as OpenAI's `log_mel_spectrogram` and transformers'
//! `WhisperFeatureExtractor`: audio padded to 30 s, a centred STFT (reflect
//! padding, periodic Hann window of 400, hop 160), power spectrum, 80 Slaney mel
//! bands, log10 floored at 1e-10, clamped to (max - 8), then (x + 4) / 4.
//!
//! Speed: one precomputed FFT plan for length 400 (rustfft, mixed radix); frames
//! that only see the zero padding are not transformed at all (their power is exactly
//! zero, so their value is known: log10(1e-10)); each mel band sums only the FFT bins
//! where its triangle is not zero (about 3 of 201: the same sum, the zeros skipped);
//! and only the frames of the encoder's window are produced (`compute_frames`): the
//! rest would be the floor and cannot change the window's maximum.

use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

use crate::error::{Error, Result};
use crate::keys::SAMPLE_RATE;

pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
/// Whisper always hears a 30 s window.
pub const N_SAMPLES: usize = 30 * SAMPLE_RATE as usize;
pub const N_FRAMES: usize = N_SAMPLES / HOP;
pub const N_BINS: usize = N_FFT / 2 + 1;
const LOG_FLOOR: f32 = -10.0; // log10(1e-10)

pub struct MelExtractor {
    filters: Vec<f32>, // [n_mels][N_BINS]
    /// Per band, the bins from its first to its last non-zero weight.
    bands: Vec<std::ops::Range<usize>>,
    n_mels: usize,
    window: Vec<f32>,
    fft: Arc<dyn Fft<f32>>,
}

impl MelExtractor {
    pub fn new(filters: Vec<f32>, n_mels: usize) -> Result<Self> {
        if filters.len() != n_mels * N_BINS {
            return Err(Error::Invalid(format!(
                "mel filterbank has {} values, expected {n_mels} x {N_BINS}",
                filters.len()
            )));
        }
        let window =
            (0..N_FFT).map(|i| 0.5 * (1.0 - (2.0 * std::f32::consts::PI * i as f32 / N_FFT as f32).cos())).collect();
        let fft = FftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        let bands = filters
            .chunks_exact(N_BINS)
            .map(|row| {
                let first = row.iter().position(|w| *w != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|w| *w != 0.0).map_or(0, |i| i + 1);
                first..last.max(first)
            })
            .collect();
        Ok(Self { filters, bands, n_mels, window, fft })
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// `[n_mels][N_FRAMES]` features for up to 30 s of 16 kHz mono audio.
    pub fn compute(&self, pcm: &[f32]) -> Vec<f32> {
        self.compute_frames(pcm, N_FRAMES)
    }

    /// `[n_mels][frames]`: the first `frames` columns of `compute` (which they equal
    /// exactly whenever the audio fits in them).
    pub fn compute_frames(&self, pcm: &[f32], frames: usize) -> Vec<f32> {
        let frames = frames.min(N_FRAMES);
        let audio = &pcm[..pcm.len().min(N_SAMPLES)];
        let pad = N_FFT / 2;
        // Centred frames: frame t covers padded[t*HOP .. t*HOP+N_FFT] where padded is the
        // 30 s signal with `pad` reflected samples on each side.
        let sample = |i: isize| -> f32 {
            // index into the 30 s zero-padded signal, reflected at both ends
            let n = N_SAMPLES as isize;
            let j = if i < 0 {
                -i
            } else if i >= n {
                2 * (n - 1) - i
            } else {
                i
            };
            audio.get(j as usize).copied().unwrap_or(0.0)
        };
        // Frames starting at or after this index see only zeros (and reflected zeros).
        let live_frames = ((audio.len() + pad) / HOP + 1).min(frames);
        let mut log_mel = vec![LOG_FLOOR; self.n_mels * frames];
        let mut buffer = vec![Complex32::new(0.0, 0.0); N_FFT];
        let mut scratch = vec![Complex32::new(0.0, 0.0); self.fft.get_inplace_scratch_len()];
        let mut power = vec![0f32; N_BINS];
        for frame in 0..live_frames {
            let start = (frame * HOP) as isize - pad as isize;
            for (k, slot) in buffer.iter_mut().enumerate() {
                *slot = Complex32::new(sample(start + k as isize) * self.window[k], 0.0);
            }
            self.fft.process_with_scratch(&mut buffer, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buffer[..N_BINS]) {
                *p = c.norm_sqr();
            }
            for (m, band) in self.bands.iter().enumerate() {
                let row = &self.filters[m * N_BINS + band.start..m * N_BINS + band.end];
                let energy: f32 = row.iter().zip(&power[band.clone()]).map(|(f, p)| f * p).sum();
                log_mel[m * frames + frame] = energy.max(1e-10).log10();
            }
        }
        let max = log_mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in log_mel.iter_mut() {
            *v = (v.max(max - 8.0) + 4.0) / 4.0;
        }
        log_mel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity_filters(n_mels: usize) -> Vec<f32> {
        let mut f = vec![0.0; n_mels * N_BINS];
        for m in 0..n_mels {
            f[m * N_BINS + m * 2] = 1.0;
        }
        f
    }

    #[test]
    fn silence_is_flat() {
        let mel = MelExtractor::new(identity_filters(80), 80).unwrap();
        let out = mel.compute(&vec![0.0; SAMPLE_RATE as usize]);
        assert!(out.iter().all(|v| (*v - (LOG_FLOOR + 4.0) / 4.0).abs() < 1e-6));
    }

    #[test]
    fn a_tone_lands_in_its_bin_and_skipped_frames_match_computed_ones() {
        // 1 kHz tone: bin 1000 / (16000 / 400) = 25
        let pcm: Vec<f32> =
            (0..8000).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin()).collect();
        let mut filters = vec![0.0; 2 * N_BINS];
        filters[25] = 1.0; // band 0 = bin 25
        filters[N_BINS + 60] = 1.0; // band 1 = bin 60
        let mel = MelExtractor::new(filters, 2).unwrap();
        let out = mel.compute(&pcm);
        let mid = 25; // a frame inside the tone
        assert!(out[mid] > out[N_FRAMES + mid] + 1.0, "tone band louder than an empty band");
        // far beyond the audio: all frames equal the floor after clamping
        assert_eq!(out[N_FRAMES - 1], out[N_FRAMES + N_FRAMES - 1]);
        // a window's frames are the full window's first columns, bit for bit
        let short = mel.compute_frames(&pcm, 200);
        for band in 0..2 {
            assert_eq!(&short[band * 200..(band + 1) * 200], &out[band * N_FRAMES..band * N_FRAMES + 200]);
        }
    }
}

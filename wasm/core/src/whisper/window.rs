//! How much audio the encoder hears: the clip plus some silence, not always 30 s.
//!
//! Whisper was trained on 30 s windows (1500 encoder positions) and reads a short
//! clip as speech followed by a long silence. Running the encoder on fewer positions
//! (whisper.cpp's `audio_ctx`) makes a 2 s clip about ten times cheaper, but very
//! short windows cost accuracy: with little silence after the speech the decoder
//! loops ("Thank you. Thank you. Thank you...") instead of ending. Measured on the
//! test set (`python/tabtwin/voice/testset.py`, 48 clips of 1-10 s; word error rate,
//! full 30 s window 20.8%): the clip plus 0.5, 1, 2, 3 or 5 s gave 338%, 251%, 163%,
//! 109% and 56% (loops); at least 5 s and the clip plus 1 s, 94%; at least 6 s and
//! the clip plus 4 s, 85%; at least 8 s and the clip plus 4 s, 19.6%; at least 10 s,
//! 19.8%. Hence the fitted window below, and a guard (`decode.rs`): should the decoder
//! loop all the same, the clip is heard again in the full window.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::SAMPLE_RATE;

/// Encoder positions per second of audio (100 mel frames, halved by the second convolution).
pub const POSITIONS_PER_SECOND: usize = 50;
/// The fitted window is never shorter than this...
pub const FLOOR_SECONDS: f32 = 8.0;
/// ...and always holds this much beyond the clip.
pub const MARGIN_SECONDS: f32 = 4.0;

/// The encoder window a transcription runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The clip plus `MARGIN_SECONDS`, at least `FLOOR_SECONDS` (the default); the full
    /// window again should the decoder loop.
    #[default]
    Fitted,
    /// Whisper's own 30 s window, whatever the clip's length.
    Full,
    /// Exactly this many seconds (at least the clip's length, at most 30).
    Seconds(f32),
}

/// What a transcription is run with; the bindings pass it as JSON (`{"window": "full"}`,
/// `{"window": {"seconds": 8}}`), absent fields keeping the defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscribeOptions {
    pub window: Window,
}

impl TranscribeOptions {
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| Error::Invalid(format!("transcription options: {e}")))
    }
}

impl Window {
    /// Encoder positions for a clip of `samples`, at most `max_positions` (1500).
    pub fn positions(self, samples: usize, max_positions: usize) -> Result<usize> {
        let clip_seconds = samples as f32 / SAMPLE_RATE as f32;
        let seconds = match self {
            Window::Full => return Ok(max_positions),
            Window::Fitted => (clip_seconds + MARGIN_SECONDS).max(FLOOR_SECONDS),
            Window::Seconds(s) if s.is_nan() || s <= 0.0 => {
                return Err(Error::Invalid(format!("a window of {s} s is empty")))
            }
            Window::Seconds(s) if s + 1e-3 < clip_seconds => {
                return Err(Error::Invalid(format!("a window of {s} s is shorter than the clip ({clip_seconds:.2} s)")))
            }
            Window::Seconds(s) => s,
        };
        Ok(((seconds * POSITIONS_PER_SECOND as f32).ceil() as usize).min(max_positions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_window_follows_the_clip_between_the_floor_and_thirty_seconds() {
        let s = SAMPLE_RATE as usize;
        let floor = (FLOOR_SECONDS * POSITIONS_PER_SECOND as f32) as usize;
        assert_eq!(Window::Fitted.positions(s, 1500).unwrap(), floor);
        let long = (20.0 + MARGIN_SECONDS) * POSITIONS_PER_SECOND as f32;
        assert_eq!(Window::Fitted.positions(20 * s, 1500).unwrap(), long as usize);
        assert_eq!(Window::Fitted.positions(29 * s, 1500).unwrap(), 1500);
        assert_eq!(Window::Full.positions(s, 1500).unwrap(), 1500);
        assert_eq!(Window::Seconds(8.0).positions(2 * s, 1500).unwrap(), 400);
        assert!(Window::Seconds(1.0).positions(2 * s, 1500).is_err());
    }

    #[test]
    fn options_read_from_json() {
        assert_eq!(TranscribeOptions::from_json("").unwrap().window, Window::Fitted);
        assert_eq!(TranscribeOptions::from_json(r#"{"window": "full"}"#).unwrap().window, Window::Full);
        assert_eq!(TranscribeOptions::from_json(r#"{"window": {"seconds": 8}}"#).unwrap().window, Window::Seconds(8.0));
        assert!(TranscribeOptions::from_json(r#"{"windw": "full"}"#).is_err());
    }
}

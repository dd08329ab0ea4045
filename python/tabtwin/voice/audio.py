"""Reading a WAV file as 16 kHz mono float32 samples, as Whisper wants them."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from tabtwin import keys
from tabtwin.errors import TabtwinError

SAMPLE_RATE = keys.SAMPLE_RATE  # what Whisper hears


def read_wav(path: Path | str) -> np.ndarray:
    """Samples in [-1, 1] at 16 kHz mono. Other rates are resampled (linear interpolation after
    a moving-average low-pass, adequate for speech into a 16 kHz model)."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise TabtwinError(f"{path}: not a PCM WAV file ({exc})") from exc
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
    if dtype is None:
        raise TabtwinError(f"{path}: {8 * width}-bit samples are not supported (use 8, 16 or 32-bit PCM)")
    samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    samples = (samples - 128.0) / 128.0 if width == 1 else samples / float(2 ** (8 * width - 1))
    samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        if rate > SAMPLE_RATE:
            taps = int(np.ceil(rate / SAMPLE_RATE))
            samples = np.convolve(samples, np.ones(taps) / taps, mode="same").astype(np.float32)
        positions = np.arange(0, len(samples) * SAMPLE_RATE / rate) * rate / SAMPLE_RATE
        samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
    return samples

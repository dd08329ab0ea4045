"""Whisper's log-mel filterbank, computed here instead of downloaded.

This is librosa's `filters.mel(sr=16000, n_fft=400, n_mels=80)` (Slaney mel scale,
`htk=False`, `norm="slaney"`, fmin 0, fmax sr/2), which is what OpenAI generated
`mel_filters.npz` with. It is reproduced bit for bit: everything is computed in
float64 and rounded to float32 once at the end (rounding the triangles to float32
before the Slaney scaling gives different bytes). Element [0, 0] is -0.0 in the
reference (max(0, min(-0.0, x))); we write it that way explicitly so the bytes, and
the sha256 the tests pin, match the reference exactly.
"""

from __future__ import annotations

import hashlib

import numpy as np

from tabtwin import keys

SAMPLE_RATE = keys.SAMPLE_RATE
N_FFT = 400
N_MELS = 80
# float32 little-endian bytes of mel_filters(), row-major [mel][freq].
SHA256 = "2150c30cbbeb6029f52002ffa666c1c72d83dbf53f463cb8462052055806e891"

_F_SP = 200.0 / 3  # Hz per mel below 1 kHz (linear part)
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz):
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asanyarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    log_part = hz >= _MIN_LOG_HZ
    return np.where(log_part, _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP, mel)


def mel_to_hz(mel):
    mel = np.asanyarray(mel, dtype=np.float64)
    hz = _F_SP * mel
    log_part = mel >= _MIN_LOG_MEL
    return np.where(log_part, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - _MIN_LOG_MEL)), hz)


def mel_filters(
    sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) float32 Slaney-normalised triangular filters."""
    fmax = sr / 2.0 if fmax is None else float(fmax)
    fft_freqs = np.linspace(0.0, sr / 2.0, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float64)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights = (weights * enorm[:, np.newaxis]).astype(np.float32)
    if weights[0, 0] == 0.0:
        weights[0, 0] = -0.0
    return weights


def sha256(weights: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(weights, dtype="<f4").tobytes()).hexdigest()

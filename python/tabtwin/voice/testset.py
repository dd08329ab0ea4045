"""The hold-to-talk test set: espeak-ng speech at about 1, 2, 5 and 10 s, in several voices and
speeds, some clips with added pink noise, all with silence at both ends, each with its reference text.

Built with espeak-ng and sox (both Debian packages), deterministically (sox `-R`), once per machine
into the cache; `word_error_rate` is the one scoring rule the tests and `tabtwin bench voice` use.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tabtwin import keys
from tabtwin.paths import cache_dir
from tabtwin.voice.audio import read_wav

# Words chosen to survive synthetic speech (espeak says "rust" so that Whisper hears "rest"):
# a clip tests the recogniser, not espeak's pronunciation. No digits, no British spellings.
PHRASES = {
    1: ["thank you", "good morning", "hello there"],
    2: ["thank you very much", "what books do you like to read", "what is the weather like today"],
    5: [
        "tell me about the projects you worked on and what you learned from them",
        "can you show me your talks and the books that changed the way you think",
        "what is the weather like today and will it rain tomorrow in the city",
    ],
    10: [
        "what is the weather like today and will it rain tomorrow in the city please tell me "
        "what books you like to read and what talks you gave last year",
        "I would like to hear about the projects you built at work and at home and which of them "
        "you are most proud of and why you started them",
        "thank you very much for the answer it was helpful and clear can you now tell me more "
        "about your musings on music and the last book you read",
    ],
}


@dataclass(frozen=True)
class Voice:
    """How espeak-ng says a phrase, and whether pink noise is mixed in (at about 20 dB below speech)."""

    name: str  # espeak-ng voice, with an optional +variant
    speed: int  # words per minute
    noise: bool


VOICES = [
    Voice("en-us", 150, False),
    Voice("en-gb", 175, True),
    Voice("en-us+f3", 140, False),
    Voice("en-gb-scotland+m3", 160, True),
]
# Silence before the speech; the clip is then padded at the end up to its nominal length
# (at least TRAIL_SECONDS), as a visitor lets go of the button a moment after speaking.
LEAD_SECONDS = 0.15
TRAIL_SECONDS = 0.15
NOISE_VOLUME = 0.02


@dataclass(frozen=True)
class Clip:
    name: str
    text: str
    nominal_seconds: int  # the bucket: 1, 2, 5 or 10
    voice: str
    speed: int
    noise: bool
    path: str

    @property
    def audio(self) -> np.ndarray:
        return read_wav(self.path)

    @property
    def seconds(self) -> float:
        return len(self.audio) / keys.SAMPLE_RATE


def _definition() -> str:
    spec = {"phrases": PHRASES, "voices": [asdict(v) for v in VOICES], "lead": LEAD_SECONDS, "trail": TRAIL_SECONDS}
    spec["noise"] = NOISE_VOLUME
    return json.dumps(spec, sort_keys=True)


def _sox(*args: str) -> None:
    subprocess.run(["sox", "-R", *args], check=True, capture_output=True)


def _render(text: str, voice: Voice, nominal: int, out: Path) -> None:
    raw, speech, padded, noise = (out.with_suffix(s) for s in (".raw.wav", ".speech.wav", ".pad.wav", ".noise.wav"))
    subprocess.run(["espeak-ng", "-v", voice.name, "-s", str(voice.speed), "-w", str(raw), text], check=True)
    _sox(str(raw), "-r", str(keys.SAMPLE_RATE), "-c", "1", "-b", "16", str(speech))
    spoken = len(read_wav(speech)) / keys.SAMPLE_RATE
    trail = max(TRAIL_SECONDS, nominal - spoken - LEAD_SECONDS)
    _sox(str(speech), str(padded), "pad", f"{LEAD_SECONDS}", f"{trail:.3f}")
    if voice.noise:
        total = len(read_wav(padded)) / keys.SAMPLE_RATE
        _sox("-n", "-r", str(keys.SAMPLE_RATE), "-c", "1", "-b", "16", str(noise), "synth", f"{total:.3f}", "pinknoise")
        _sox("-m", "-v", "1", str(padded), "-v", str(NOISE_VOLUME * 10), str(noise), str(out))
    else:
        padded.rename(out)
    for tmp in (raw, speech, padded, noise):
        tmp.unlink(missing_ok=True)


def build(directory: Path | None = None, buckets: tuple[int, ...] = (1, 2, 5, 10)) -> list[Clip]:
    """Every clip of the test set (rendered once into the cache, keyed by the definition above)."""
    digest = hashlib.sha256(_definition().encode()).hexdigest()[:12]
    directory = Path(directory or cache_dir() / "voice-testset" / digest)
    directory.mkdir(parents=True, exist_ok=True)
    clips = []
    for nominal, texts in PHRASES.items():
        if nominal not in buckets:
            continue
        for p, text in enumerate(texts):
            for v, voice in enumerate(VOICES):
                name = f"{nominal}s-p{p}-v{v}"
                path = directory / f"{name}.wav"
                if not path.is_file():
                    _render(text, voice, nominal, path)
                clips.append(Clip(name, text, nominal, voice.name, voice.speed, voice.noise, str(path)))
    return clips


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions + insertions + deletions between the two word sequences (Levenshtein on words)."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        previous, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref[i - 1] != hyp[j - 1]))
    return row[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    return word_errors(reference, hypothesis) / max(len(words(reference)), 1)


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    """Word errors over all clips / reference words over all clips (not a mean of per-clip rates)."""
    errors = sum(word_errors(r, h) for r, h in pairs)
    return errors / max(sum(len(words(r)) for r, _ in pairs), 1)

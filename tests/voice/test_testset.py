"""The hold-to-talk test set (1, 2, 5 and 10 s of espeak-ng speech: voices, speeds, noise, silence at
both ends): tabtwin's default window against faster-whisper on the same bundle, word for word."""

import pytest

from tabtwin.bench.voice import faster_whisper_native, tabtwin_native
from tabtwin.voice import testset


@pytest.fixture(scope="module")
def clips():
    return testset.build()


def test_the_test_set_covers_each_length_voice_and_noise(clips):
    assert {c.nominal_seconds for c in clips} == {1, 2, 5, 10}
    assert len({c.voice for c in clips}) >= 4 and {c.noise for c in clips} == {True, False}
    for clip in clips:
        assert clip.seconds >= clip.nominal_seconds - 0.1 or clip.nominal_seconds == 1, clip
        audio = clip.audio
        edge = int(0.1 * len(audio) / clip.seconds)  # the first and last 0.1 s: no speech, at most noise
        rms = lambda x: float((x**2).mean() ** 0.5)  # noqa: E731
        assert max(rms(audio[:edge]), rms(audio[-edge:])) < 0.5 * rms(audio), clip.name


@pytest.mark.models  # the default Whisper GGUF and its CTranslate2 bundle
def test_word_error_rate_is_no_worse_than_faster_whisper_on_the_same_bundle(clips):
    ours = tabtwin_native(clips, "fitted")
    peer = faster_whisper_native(clips, "float32")
    ours_wer = testset.corpus_wer([(c.text, ours[c.name]["text"]) for c in clips])
    peer_wer = testset.corpus_wer([(c.text, peer[c.name]["text"]) for c in clips])
    # within one word per hundred (the target)
    assert ours_wer <= peer_wer + 0.01, (ours_wer, peer_wer)


def test_word_errors_count_substitutions_insertions_and_deletions():
    assert testset.word_errors("thank you very much", "Thank you, very much.") == 0
    assert testset.word_errors("thank you very much", "thank you much") == 1
    assert testset.word_errors("thank you", "thank you so much") == 2
    assert testset.word_errors("what books", "what looks") == 1
    assert testset.corpus_wer([("a b", "a"), ("c d e f", "c d e f")]) == pytest.approx(1 / 6)

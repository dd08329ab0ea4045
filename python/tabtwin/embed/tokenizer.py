"""BERT's uncased WordPiece tokenizer in pure Python: what Hugging Face `tokenizers` does with
all-MiniLM-L6-v2's tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] ... [SEP]).

Normalizer (clean_text, handle_chinese_chars, strip_accents following lowercase, lowercase):
  drop U+0000, U+FFFD and control characters (Unicode categories Cc, Cf, Co, Cs, except tab/newline/return),
  turn whitespace into a space, put a space on both sides of every CJK ideograph, decompose (NFD)
  and drop nonspacing marks (Mn: "Göteborg" -> "goteborg"), lowercase char by char.
Pre-tokenizer: split on whitespace; every punctuation character (category P*, or ASCII 33-47, 58-64,
  91-96, 123-126) is a word of its own.
WordPiece: greedy longest match first, continuing pieces prefixed "##"; a word longer than 100
  characters, or one that cannot be covered by vocabulary pieces, is a single [UNK].
Special tokens: the exact (case-sensitive) text of [PAD], [UNK], [CLS], [SEP] or [MASK] in the raw
  input is that token, as `tokenizers` matches its added tokens before normalizing ("a [MASK] b" ->
  a, 103, b; "[mask]" is "[", "mask", "]").
Then [CLS] pieces [SEP], the pieces cut to `max_tokens - 2`.

Known difference: characters newer than the Unicode tables inside `tokenizers` (recent punctuation or
marks of rare scripts, e.g. U+061D) may be classed differently; they become [UNK] either way, only the
count of [UNK]s can differ. Everyday text (Latin with accents, Greek, Cyrillic, CJK, Hangul, emoji)
matches exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
MAX_INPUT_CHARS_PER_WORD = 100
CONTINUING_PREFIX = "##"

# What `tokenizers` counts as a control character and drops: categories Cc, Cf, Co, Cs (not Cn:
# unassigned code points stay, and become [UNK]).
_CONTROL = frozenset({"Cc", "Cf", "Co", "Cs"})
# Rust's char::is_whitespace minus the C* characters the cleaning step has already dropped; tab,
# newline and carriage return are C* but count as whitespace.
_WHITESPACE = frozenset("\t\n\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}
# CJK ideograph blocks, as `tokenizers` lists them (its fifth range starts at 0x2B920).
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def normalize(text: str, lowercase: bool = True) -> str:
    out = []
    for ch in text:
        if ch in "\t\n\r":
            out.append(" ")
            continue
        if ch == "\x00" or ch == "\ufffd" or unicodedata.category(ch) in _CONTROL:
            continue
        if ch in _WHITESPACE:
            out.append(" ")
        elif _is_cjk(ord(ch)):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    text = "".join(out)
    if lowercase:  # strip_accents is unset, so it follows lowercase
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        text = "".join(c.lower() for c in text)  # char by char, as Rust's char::to_lowercase (no final sigma)
    return text


def pre_tokenize(text: str) -> list[str]:
    words, current = [], []
    for ch in text:
        if ch in _WHITESPACE:
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(ch):
            if current:
                words.append("".join(current))
                current = []
            words.append(ch)
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words


class WordPieceTokenizer:
    """Token ids of a text, exactly as `tokenizers` gives them for a BERT uncased tokenizer.json."""

    def __init__(
        self,
        tokens: Sequence[str],
        cls_id: int,
        sep_id: int,
        unk_id: int,
        lowercase: bool = True,
        max_tokens: int = 512,
    ):
        self.tokens = list(tokens)
        self.vocab = {t: i for i, t in enumerate(self.tokens)}
        self.cls_id, self.sep_id, self.unk_id = cls_id, sep_id, unk_id
        self.lowercase = lowercase
        self.max_tokens = max_tokens
        specials = [t for t in SPECIAL_TOKENS if t in self.vocab]
        self._special = re.compile("(" + "|".join(map(re.escape, specials)) + ")") if specials else None

    def word_ids(self, word: str) -> list[int]:
        if len(word) > MAX_INPUT_CHARS_PER_WORD:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else CONTINUING_PREFIX + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            else:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def pieces(self, text: str) -> list[int]:
        """The WordPiece ids of `text`, without [CLS]/[SEP] and untruncated."""
        ids = []
        for i, part in enumerate(self._special.split(text) if self._special else [text]):
            if i % 2:  # a special token's literal text
                ids.append(self.vocab[part])
                continue
            for word in pre_tokenize(normalize(part, self.lowercase)):
                ids += self.word_ids(word)
        return ids

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces [SEP], at most `max_tokens` ids (the pieces cut at the end)."""
        return [self.cls_id, *self.pieces(text)[: self.max_tokens - 2], self.sep_id]

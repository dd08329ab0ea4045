"""A conversation -> token ids and labels, the way the model will see it at run time.

The text is rendered by the base model's own chat template (the template the
exported GGUF carries and the core renders), then cut into pieces at the
assistant answers. Each piece is tokenized on its own, so the prompt tokens are
exactly those the core feeds at inference, and each answer is the token sequence
the model must generate. Labels are -100 on everything except the assistant
answers and the end-of-turn token after each one: the loss teaches what to say
and when to stop, never to predict the user's words or the system prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from tabtwin import keys
from tabtwin.errors import TabtwinError

IGNORE = -100
END_OF_TURN = keys.END_OF_TURN_TOKENS  # the core's rule: the same tokens end a turn in training


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def supervised(self) -> int:
        return sum(1 for t in self.labels if t != IGNORE)


def segments(tokenizer, messages: list[dict]) -> list[tuple[str, bool]]:
    """The rendered conversation as (text, is_answer) pieces; answers include their end-of-turn token."""
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    pieces: list[tuple[str, bool]] = []
    done = 0
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prefix = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True)
        content = message["content"]
        if not full.startswith(prefix) or not full[len(prefix) :].startswith(content):
            raise TabtwinError(
                "the base model's chat template does not render assistant answers verbatim after "
                "the generation prompt; tabtwin cannot tell answer tokens from prompt tokens"
            )
        end = len(prefix) + len(content)
        eot = next((t for t in (tokenizer.eos_token, *END_OF_TURN) if t and full.startswith(t, end)), None)
        if eot is None:
            raise TabtwinError(
                f"no end-of-turn token after an assistant answer in the rendered template "
                f"(looked for {[tokenizer.eos_token, *END_OF_TURN]})"
            )
        pieces.append((full[done : len(prefix)], False))
        pieces.append((full[len(prefix) : end + len(eot)], True))
        done = end + len(eot)
    if done < len(full):
        pieces.append((full[done:], False))
    return [(text, answer) for text, answer in pieces if text]


def encode(tokenizer, messages: list[dict]) -> Encoded:
    ids: list[int] = []
    labels: list[int] = []
    for text, is_answer in segments(tokenizer, messages):
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if is_answer else [IGNORE] * len(piece)
    return Encoded(ids, labels)

"""The native core answers with the real default models, through the CLI a user runs."""

import json
import subprocess
import sys

import pytest

from tabtwin._core import Chat

QUESTION = "What is the capital of France?"
pytestmark = pytest.mark.models  # the fixtures are requested by name (getfixturevalue)


def tabtwin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tabtwin.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("fixture, arch, stored", [("smollm_path", "llama", "F16"), ("qwen_path", "qwen2", "Q8_0")])
def test_inspect_reports_architecture(request, fixture, arch, stored):
    """The served copies: SmolLM2 in F16 (any 8-bit copy flips knife-edge answers), Qwen2.5 in Q8_0."""
    path = request.getfixturevalue(fixture)
    result = tabtwin("inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["architecture"] == arch
    assert info["supported"] is True
    assert info["chat_template"] is True
    assert info["file_type"] == stored
    assert stored in info["quantization"]


@pytest.mark.parametrize("fixture", ["smollm_path", "qwen_path"])
def test_chat_cli_answers_paris(request, fixture):
    path = request.getfixturevalue(fixture)
    result = tabtwin("chat", str(path), "--prompt", QUESTION, "--max-tokens", "40")
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout


def test_generation_stops_at_end_of_turn(smollm_path):
    chat = Chat.from_path(smollm_path)
    reply = chat.generate("Say hello.", max_tokens=200)
    assert chat.stop_reason() == "end_of_turn"
    assert "<|im_end|>" not in reply


def test_max_tokens_caps_the_reply(smollm_path):
    chat = Chat.from_path(smollm_path)
    pieces = []
    chat.generate("Write a long story about a dragon.", max_tokens=5, on_text=pieces.append)
    assert chat.stop_reason() == "max_tokens"
    assert len(chat.encode("".join(pieces))) <= 6


def test_callback_false_stops(smollm_path):
    chat = Chat.from_path(smollm_path)
    seen = []

    def once(piece):
        seen.append(piece)
        return False

    chat.generate("Count from one to fifty.", max_tokens=100, on_text=once)
    assert chat.stop_reason() == "stopped"
    assert len(seen) == 1

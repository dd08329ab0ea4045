"""Bad model files give a sentence that names the problem, never a panic."""

import subprocess
import sys

import numpy as np
import pytest
from gguf import GGUFReader, GGUFWriter

from tabtwin._core import Chat
from tabtwin.gguf.read import GgufError, describe
from tabtwin.gguf.store import copy_metadata


def write_gpt2_file(path, tokenizer_from):
    writer = GGUFWriter(path, "gpt2")
    reader = GGUFReader(tokenizer_from)
    copy_metadata(reader, writer, skip={k for k in reader.fields if not k.startswith("tokenizer.")})
    writer.add_context_length(64)
    writer.add_tensor("token_embd.weight", np.zeros((8, 32), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_unsupported_architecture_is_named(tmp_path, smollm_path):
    path = tmp_path / "gpt2.gguf"
    write_gpt2_file(path, smollm_path)
    with pytest.raises(ValueError) as err:
        Chat.from_path(path)
    message = str(err.value)
    assert "'gpt2'" in message and "llama" in message and "qwen2" in message
    assert describe(path)["supported"] is False


@pytest.mark.parametrize("fraction", [0.5, 0.999])
def test_truncated_file_is_reported(tmp_path, smollm_path, fraction):
    data = smollm_path.read_bytes()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match="truncated"):
        Chat.from_path(path)
    with pytest.raises(GgufError, match="truncated"):
        describe(path)


def test_cut_inside_header_is_reported(tmp_path, smollm_path):
    path = tmp_path / "header.gguf"
    path.write_bytes(smollm_path.read_bytes()[:5000])
    with pytest.raises(ValueError, match="header unreadable|truncated"):
        Chat.from_path(path)


def test_not_a_gguf(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="GGUF"):
        Chat.from_path(path)
    result = subprocess.run([sys.executable, "-m", "tabtwin.cli", "inspect", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "not a GGUF file" in result.stderr and "Traceback" not in result.stderr

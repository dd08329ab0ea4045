"""GGUF files the core must refuse with a sentence, written by the tests."""

import numpy as np
from gguf import GGUFReader, GGUFWriter

from tabtwin.gguf.store import copy_metadata


def write_gpt2_file(path, tokenizer_from):
    """A file of an architecture the core does not support, with a real tokenizer copied in."""
    writer = GGUFWriter(path, "gpt2")
    reader = GGUFReader(tokenizer_from)
    copy_metadata(reader, writer, skip={k for k in reader.fields if not k.startswith("tokenizer.")})
    writer.add_context_length(64)
    writer.add_tensor("token_embd.weight", np.zeros((8, 32), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

"""tabtwin: your own small language model, fine-tuned on your writing, running in a browser tab.

The pure-Python parts (registry, site build, GGUF reading and writing) import no
native code and no torch; `tabtwin._core` is the Rust core, built by maturin.
"""

__version__ = "0.1.0"

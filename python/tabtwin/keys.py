"""The constants table: every name and marker that Rust, Python and the page must agree on.

Mirrors `wasm/core/src/keys.rs` (tests/core/test_constants.py compares the two tables), and the
site build writes the page's `static/js/constants.js` from it (site.render.constants_js). Standard
GGUF keys come from gguf-py's own `gguf.Keys`; only tabtwin's and Whisper's own keys are typed here.
"""

# --- tabtwin.* metadata keys in a twin's GGUF
SYSTEM_PROMPT = "tabtwin.system_prompt"  # the system prompt the twin was trained with; used verbatim
PERSONA = "tabtwin.persona"  # who the twin speaks as (display name)
TOOLS = "tabtwin.tools"  # JSON array of the inline apps the twin may open with a TOOL line
REFUSALS = "tabtwin.refusals"  # JSON array of the refusals the twin was trained to give ([data] dont_know)
PROVENANCE = "tabtwin.provenance"  # JSON object: base, adapter, dataset hash, hyperparameters
FORMAT_VERSION = "tabtwin.format_version"  # version of this key set

ALL = {
    "SYSTEM_PROMPT": SYSTEM_PROMPT,
    "PERSONA": PERSONA,
    "TOOLS": TOOLS,
    "REFUSALS": REFUSALS,
    "PROVENANCE": PROVENANCE,
    "FORMAT_VERSION": FORMAT_VERSION,
}

# --- whisper.* metadata keys in the Whisper GGUF (written by voice.convert, read by the core)
WHISPER_CONFIG = "whisper.config"  # the candle/HF config as JSON
WHISPER_TOKENIZER_JSON = "whisper.tokenizer_json"  # tokenizer.json, verbatim
WHISPER_MEL_FILTERS = "whisper.mel_filters"  # the mel filterbank, float32, row-major

# --- tabtwin.embedder.* metadata keys in the sentence embedder's GGUF (written by embed.convert)
EMBEDDER_MAX_TOKENS = "tabtwin.embedder.max_tokens"  # inputs are cut to this many tokens, [CLS]/[SEP] included
EMBEDDER_LOWERCASE = "tabtwin.embedder.lowercase"  # whether the WordPiece tokenizer lowercases

# --- the chat format
# Tokens that end an assistant turn, whichever chat template the model uses.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>")
THINK_OPEN = "<think>"  # a reply's inner monologue, shown collapsed
THINK_CLOSE = "</think>"
TOOL_PREFIX = "TOOL "  # a line `TOOL {"app": ..., "params": {...}}` opens an inline app

# The inline apps the site offers; a twin's tabtwin.tools (and a run config) may narrow the list.
APPS = ("projects", "books", "musings", "talks")

# --- voice
SAMPLE_RATE = 16000  # Hz, mono: what Whisper hears
MIN_CLIP_SECONDS = 0.3  # shorter clips are refused ("too short")
MAX_CLIP_SECONDS = 30.0  # Whisper's window: the page stops recording there and says so

# What the page's generated constants.js exports (name -> value), in this order.
PAGE = {
    "APPS": APPS,
    "THINK_OPEN": THINK_OPEN,
    "THINK_CLOSE": THINK_CLOSE,
    "TOOL_PREFIX": TOOL_PREFIX,
    "SAMPLE_RATE": SAMPLE_RATE,
    "MIN_CLIP_SECONDS": MIN_CLIP_SECONDS,
    "MAX_CLIP_SECONDS": MAX_CLIP_SECONDS,
}

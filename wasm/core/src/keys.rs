//! The constants table: every name and marker that Rust, Python and the page must agree on.
//! Mirrored by `python/tabtwin/keys.py` (same names, same values, one per line) and compared
//! by the Python tests; the page's `constants.js` is generated from the Python table.
//! Standard GGUF keys (`general.*`, `tokenizer.*`) live in `gguf.rs`, as gguf-py keeps them.

// --- tabtwin.* metadata keys in a twin's GGUF

/// The system prompt the twin was trained with; used verbatim at run time.
pub const SYSTEM_PROMPT: &str = "tabtwin.system_prompt";
/// Who the twin speaks as (display name).
pub const PERSONA: &str = "tabtwin.persona";
/// JSON array of the inline apps the twin may open with a TOOL line.
pub const TOOLS: &str = "tabtwin.tools";
/// JSON array of the refusals the twin was trained to give (`[data] dont_know`): a reply that
/// opens like one is marked as the twin not knowing (`refusal.rs`).
pub const REFUSALS: &str = "tabtwin.refusals";
/// JSON object: base model, adapter, dataset hash, hyperparameters.
pub const PROVENANCE: &str = "tabtwin.provenance";
/// Version of the tabtwin key set, so readers can tell what to expect.
pub const FORMAT_VERSION: &str = "tabtwin.format_version";

/// The tabtwin.* keys by name (Python's `keys.ALL`).
pub const ALL: &[(&str, &str)] = &[
    ("SYSTEM_PROMPT", SYSTEM_PROMPT),
    ("PERSONA", PERSONA),
    ("TOOLS", TOOLS),
    ("REFUSALS", REFUSALS),
    ("PROVENANCE", PROVENANCE),
    ("FORMAT_VERSION", FORMAT_VERSION),
];

// --- whisper.* metadata keys in the Whisper GGUF (written by `tabtwin whisper convert`)

/// The candle/HF config as JSON.
pub const WHISPER_CONFIG: &str = "whisper.config";
/// tokenizer.json, verbatim.
pub const WHISPER_TOKENIZER_JSON: &str = "whisper.tokenizer_json";
/// The mel filterbank, float32, row-major.
pub const WHISPER_MEL_FILTERS: &str = "whisper.mel_filters";

// --- tabtwin.embedder.* metadata keys in the sentence embedder's GGUF (written by tabtwin.embed)

/// Inputs are cut to this many tokens, [CLS] and [SEP] included.
pub const EMBEDDER_MAX_TOKENS: &str = "tabtwin.embedder.max_tokens";
/// Whether the WordPiece tokenizer lowercases (an uncased BERT).
pub const EMBEDDER_LOWERCASE: &str = "tabtwin.embedder.lowercase";

// --- the chat format

/// Tokens that end an assistant turn, whichever chat template the model uses (besides `eos_token_id`).
#[rustfmt::skip] // one constant, one line: the table is read by tests/core/test_constants.py
pub const END_OF_TURN_TOKENS: &[&str] = &["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>"];
/// A reply's inner monologue opens with this tag and is shown collapsed.
pub const THINK_OPEN: &str = "<think>";
pub const THINK_CLOSE: &str = "</think>";
/// A line `TOOL {"app": ..., "params": {...}}` opens an inline app.
pub const TOOL_PREFIX: &str = "TOOL ";

/// The inline apps the site offers; a twin's tabtwin.tools may narrow the list.
pub const APPS: &[&str] = &["projects", "books", "musings", "talks"];

// --- voice

/// Hz, mono: what Whisper hears.
pub const SAMPLE_RATE: u32 = 16000;
/// Shorter clips are refused ("too short") rather than guessed at.
pub const MIN_CLIP_SECONDS: f32 = 0.3;
/// Whisper hears at most this much (its window); the page stops recording there and says so.
pub const MAX_CLIP_SECONDS: f32 = 30.0;

/// Whether `token` ends an assistant turn in the chat formats we know.
pub fn is_end_of_turn(token: &str) -> bool {
    END_OF_TURN_TOKENS.contains(&token)
}

//! The GGUF metadata keys tabtwin adds. Mirrored by `python/tabtwin/keys.py`;
//! `tests/python/test_keys.py` checks that both tables hold the same pairs.

/// The system prompt the twin was trained with; used verbatim at run time.
pub const SYSTEM_PROMPT: &str = "tabtwin.system_prompt";
/// Who the twin speaks as (display name).
pub const PERSONA: &str = "tabtwin.persona";
/// JSON array of the inline apps the twin may open with a TOOL line.
pub const TOOLS: &str = "tabtwin.tools";
/// JSON object: base model, adapter, dataset hash, hyperparameters.
pub const PROVENANCE: &str = "tabtwin.provenance";
/// Version of the tabtwin key set, so readers can tell what to expect.
pub const FORMAT_VERSION: &str = "tabtwin.format_version";

pub const ALL: &[(&str, &str)] = &[
    ("SYSTEM_PROMPT", SYSTEM_PROMPT),
    ("PERSONA", PERSONA),
    ("TOOLS", TOOLS),
    ("PROVENANCE", PROVENANCE),
    ("FORMAT_VERSION", FORMAT_VERSION),
];

"""The GGUF metadata keys tabtwin adds. Mirrors `wasm/core/src/keys.rs`;
tests/python/test_keys.py checks the two tables agree."""

SYSTEM_PROMPT = "tabtwin.system_prompt"
PERSONA = "tabtwin.persona"
TOOLS = "tabtwin.tools"
PROVENANCE = "tabtwin.provenance"
FORMAT_VERSION = "tabtwin.format_version"

ALL = {
    "SYSTEM_PROMPT": SYSTEM_PROMPT,
    "PERSONA": PERSONA,
    "TOOLS": TOOLS,
    "PROVENANCE": PROVENANCE,
    "FORMAT_VERSION": FORMAT_VERSION,
}

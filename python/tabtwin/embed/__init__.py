"""Sentence embeddings for retrieval: all-MiniLM-L6-v2 converted to one GGUF (`convert`, the contract
the core reads: the page's core embeds questions with it, and the site build its passages, through
`tabtwin.host`). numpy + gguf-py only."""

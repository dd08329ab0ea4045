"""Sentence embeddings for retrieval: all-MiniLM-L6-v2 converted to one GGUF (`convert`, the contract
the browser core reads too), BERT's uncased WordPiece tokenizer in pure Python (`tokenizer`), and the
numpy encoder the site build embeds its passages with (`encode`). numpy + gguf-py only."""

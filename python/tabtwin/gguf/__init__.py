"""GGUF files with numpy + gguf-py: read and describe (`read`), store with one storage-policy table
(`store`), convert a Hugging Face checkpoint (`convert`), merge a LoRA adapter (`merge`)."""

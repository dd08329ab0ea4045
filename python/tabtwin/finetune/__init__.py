"""Making a twin: run config, data (persona sources -> ChatML JSONL), train (LoRA), export (one
self-describing GGUF), evaluate (the native core, as the browser decodes), publish (to a model hub)."""

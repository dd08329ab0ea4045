"""Speech: Whisper checkpoints converted to one GGUF for the core (`convert`), its mel filterbank,
and WAV reading."""

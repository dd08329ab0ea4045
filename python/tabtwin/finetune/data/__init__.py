"""Training data for twins: read a persona folder, validate it, expand it, split it.

    config.py    the run config (one TOML for data, train, export, eval)
    sources.py   seeds.jsonl / conversations.jsonl with file:line validation
    writing.py   essays and notes -> cleaned paragraph pairs
    imported.py  imported/*.jsonl (`tabtwin import`) with file:line validation
    curate.py    what is kept of the imported archives: length limits, duplicates, a cap per source
    build.py     expansion, stratified holdout, atomic JSONL output
    encode.py    chat template -> token ids with -100 on prompt tokens
    stats.py     counts per kind and the token budget against the context

Only encode/stats/build need a tokenizer (passed in); nothing here imports torch.
"""

from tabtwin.finetune.config import ConfigError, RunConfig, load
from tabtwin.finetune.data.build import Example, build, read_examples, split
from tabtwin.finetune.data.sources import DataError
from tabtwin.finetune.data.stats import format_stats, stats

__all__ = [
    "ConfigError",
    "DataError",
    "Example",
    "RunConfig",
    "build",
    "format_stats",
    "load",
    "read_examples",
    "split",
    "stats",
]

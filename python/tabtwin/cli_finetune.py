"""`tabtwin data | train | export | eval`: the fine-tune runbook's commands (see finetune/README.md)."""
from __future__ import annotations


def register(sub) -> None:
    """Add the fine-tune subcommands to the `tabtwin` parser."""

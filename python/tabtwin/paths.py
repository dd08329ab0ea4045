"""Where tabtwin keeps downloads and built models: outside git, shared by every command and test."""
import os
from pathlib import Path


def cache_dir() -> Path:
    """`$TABTWIN_CACHE`, else `~/.cache/tabtwin`."""
    root = os.environ.get("TABTWIN_CACHE")
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "tabtwin"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path

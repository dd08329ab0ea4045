"""Which export a path is, from the file itself: `--format` overrides it.

The suffix decides where it is clear (`.json` Telegram, `.js` X, `.mbox` mbox, `.txt` WhatsApp, a
folder or `.md`/`.html` posts); a file that starts with `From ` is an mbox whatever its name (Apple
Mail's `mbox` has none). The reader of the format then checks the content, and refuses a file that
is not what its name says with the line that shows it.
"""

from __future__ import annotations

from pathlib import Path

from tabtwin.imports.record import FORMATS
from tabtwin.imports.refusal import refuse

BY_SUFFIX = {
    ".json": "telegram",
    ".js": "x",
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".txt": "whatsapp",
    ".md": "posts",
    ".markdown": "posts",
    ".html": "posts",
    ".htm": "posts",
}


def detect(path: Path) -> str:
    if path.is_dir():
        return "posts"
    if not path.exists():
        raise refuse(path, None, "no such file or folder")
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"From "):
        return "mbox"
    if head.lstrip().startswith(b"window.YTD."):
        return "x"
    fmt = BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise refuse(path, None, f"cannot tell which export this is; give --format {'|'.join(FORMATS)}")
    return fmt

#!/usr/bin/env python3
"""Build, preview and publish the site: `python build.py [build|serve|publish] [options]`.

A shim over `tabtwin build | serve | publish` (see `python build.py build --help`) that runs from a
checkout with only requirements-site.txt installed: no Rust, no torch, no installed package.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "python"))  # the package's pure-Python parts, without installing it

from tabtwin.cli import main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] not in ("build", "serve", "publish"):
        args = ["build", *args]  # the README's `python build.py` builds
    sys.exit(main(args, prog="build.py", root=ROOT))

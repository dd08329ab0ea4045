#!/usr/bin/env python3
"""Build, preview and publish the tabtwin site.

    python build.py                 render the site and registry into _site/
    python build.py serve [--port]  build, then serve _site/ on http://127.0.0.1:8000
    python build.py publish         build, then push _site/ to the gh-pages branch

Needs only the pure-Python dependencies (numpy, gguf, jinja2): the wasm is
prebuilt and committed in site/static/wasm, so no Rust toolchain is required.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "python"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build", choices=["build", "serve", "publish"])
    parser.add_argument("--out", type=Path, default=ROOT / "_site", help="output folder (default: _site)")
    parser.add_argument("--registry", type=Path, default=ROOT / "models.toml")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--remote", help="git remote or URL to publish to (default: origin)")
    parser.add_argument("--branch", default="gh-pages")
    args = parser.parse_args(argv)

    from tabtwin.registry import RegistryError
    from tabtwin.site import BuildError, build

    try:
        summary = build(ROOT, args.out, args.registry)
    except (RegistryError, BuildError) as exc:
        print(f"build failed:\n{exc}", file=sys.stderr)
        return 1
    print(summary.table())
    if args.command == "serve":
        from tabtwin.serve import serve
        serve(args.out, args.host, args.port)
    elif args.command == "publish":
        from tabtwin.publish import publish
        return publish(args.out, ROOT, args.remote, args.branch)
    return 0


if __name__ == "__main__":
    sys.exit(main())

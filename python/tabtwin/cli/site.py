"""`tabtwin build | serve | publish` (and `python build.py`, a shim over them): the site verbs."""

from __future__ import annotations

import argparse
from pathlib import Path

from tabtwin.site.budget import HOSTS


def _build(args):
    from tabtwin.site.build import build

    root = args.root.resolve()
    summary = build(
        root, (args.out or root / "_site").resolve(), args.registry or root / "models.toml", target=args.target
    )
    print(summary.table())
    return summary


def cmd_build(args) -> int:
    _build(args)
    return 0


def cmd_serve(args) -> int:
    from tabtwin.site.serve import serve

    summary = _build(args)
    serve(summary.out_dir, args.host, args.port)
    return 0


def cmd_publish(args) -> int:
    from tabtwin.site.publish import publish

    summary = _build(args)
    return publish(summary.out_dir, args.root.resolve(), args.remote, args.branch)


def cmd_grounding_fit(args) -> int:
    from tabtwin.site.answerability import fit

    fit(args.registry.resolve())
    return 0


def _common(parser: argparse.ArgumentParser, root: Path | None) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=root or Path.cwd(),
        help="the project folder: site/ and models.toml (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="output folder (default: ROOT/_site)")
    parser.add_argument("--registry", type=Path, help="the model registry (default: ROOT/models.toml)")
    parser.add_argument(
        "--target",
        choices=sorted(HOSTS),
        help="the static host whose limits the published size must fit (default: [site] target "
        "in models.toml, else github-pages: 1000 MB a site, files under 100 MB)",
    )


def register(sub, root: Path | None = None) -> None:
    build = sub.add_parser("build", help="render the site and model registry into _site/ (no Rust, no torch)")
    _common(build, root)
    build.set_defaults(func=cmd_build)

    serve = sub.add_parser("serve", help="build, then serve _site/ on http://127.0.0.1:8000 (chat at /chat/)")
    _common(serve, root)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    publish = sub.add_parser("publish", help="build, then push _site/ to a gh-pages branch")
    _common(publish, root)
    publish.add_argument("--remote", help="git remote or URL to publish to (default: origin)")
    publish.add_argument("--branch", default="gh-pages")
    publish.set_defaults(func=cmd_publish)

    grounding = sub.add_parser("grounding", help="the site's grounding: the core's judgement of a turn's notes")
    grounding_sub = grounding.add_subparsers(dest="grounding_command", required=True)
    gfit = grounding_sub.add_parser(
        "fit",
        help="fit the answerability model on the persona's Q&A and generated near-misses; "
        "writes the file [grounding] answerability names (native core)",
    )
    gfit.add_argument(
        "registry", type=Path, nargs="?", default=(root or Path.cwd()) / "models.toml", help="default: %(default)s"
    )
    gfit.set_defaults(func=cmd_grounding_fit)

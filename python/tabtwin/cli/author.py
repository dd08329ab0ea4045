"""The author's verbs: `tabtwin new` (a persona, its run config, its models.toml entry and site pages),
`tabtwin import` (an archive into a persona) and `tabtwin import-sample` (what was imported, drawn at
random, to read before training). Argparse shells only; the work is in `tabtwin.finetune.new` and
`tabtwin.imports`."""

from __future__ import annotations

from pathlib import Path

from tabtwin.imports.record import FORMATS


def cmd_new(args) -> int:
    from tabtwin.finetune.new import checklist, new_persona

    print(checklist(new_persona(args.dir, name=args.name, base=args.base, root=args.root)))
    return 0


def register_new(sub) -> None:
    """Add `new` to the `tabtwin` parser."""
    from tabtwin.finetune.new.scaffold import DEFAULT_BASE, base_names

    new = sub.add_parser(
        "new",
        help="start a persona: its folder, a run config, a models.toml entry and site pages, then a checklist",
        description="Writes DIR (seeds.jsonl, conversations.jsonl, writing/, canaries.jsonl, sealed.jsonl, "
        "README.md), finetune/configs/<DIR name>.toml, the twin's [[model]] entry at the end of models.toml "
        "(commented out until `tabtwin export` has written its adapter, so `python build.py` keeps working) "
        "and site/content/ pages, laid out like the demo. A file that exists is never written over: run it "
        "again to fill in what is missing. The stubs are valid data, true of any twin; the checklist says "
        "what is yours to add.",
    )
    new.add_argument("dir", type=Path, metavar="DIR", help="the persona folder, e.g. finetune/data/ada-lovelace")
    new.add_argument("--name", help="the author's full name (default: from DIR, ada-lovelace -> Ada Lovelace)")
    new.add_argument(
        "--base",
        default=DEFAULT_BASE,
        help=f"the base model: {', '.join(sorted(base_names()))}, hf:ORG/NAME@REVISION, or a .gguf file or "
        f"model folder (default: {DEFAULT_BASE})",
    )
    new.add_argument(
        "--root",
        type=Path,
        help="the checkout (models.toml, finetune/configs/, site/content/); default: the nearest folder above "
        "DIR that holds models.toml, else the current folder",
    )
    new.set_defaults(func=cmd_new)


def cmd_import(args) -> int:
    from tabtwin.imports.author import Author
    from tabtwin.imports.run import import_export

    report = import_export(
        args.path, Author.parse(args.me), args.into, fmt=args.format, dry_run=args.dry_run, mask=not args.no_mask
    )
    print("\n".join(report.lines()))
    if not args.dry_run:
        print(f"next: tabtwin import-sample {args.into} (read what the twin will learn from)")
    return 0


def cmd_import_sample(args) -> int:
    from tabtwin.imports.review import sample, shown

    for item in sample(args.persona_dir, args.n, seed=args.seed, fmt=args.format):
        print(shown(item))
    return 0


def register_import(sub) -> None:
    """Add `import` and `import-sample` to the `tabtwin` parser."""
    imp = sub.add_parser(
        "import",
        help="an archive of your own words (a chat, mail, posts) -> PERSONA_DIR/imported/<format>.jsonl",
        description="Your messages become the twin's (assistant) turns and writing; another person's message is "
        "at most the question you answered. System lines, media-only and deleted messages, quotes and "
        "signatures are left out; phone numbers, email addresses and the other people's names are masked. "
        "Counts per kind are printed; importing the same export again adds nothing twice. An export that is "
        "not what it claims is refused (file:line: what is wrong, exit 2) and nothing is written.",
    )
    imp.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="WhatsApp chat .txt, Telegram result.json, X tweets.js, an mbox, or a folder of .md/.html posts",
    )
    imp.add_argument(
        "--me",
        required=True,
        metavar="NAME[,ALIAS...]",
        help="your names, handles, ids or addresses as the export writes them (comma-separated)",
    )
    imp.add_argument("--into", required=True, type=Path, metavar="PERSONA_DIR", help="the persona folder")
    imp.add_argument("--format", choices=FORMATS, help="the export's format (default: told from the file)")
    imp.add_argument("--dry-run", action="store_true", help="read, count and print; write nothing")
    imp.add_argument(
        "--no-mask", action="store_true", help="keep phone numbers, email addresses and other people's names"
    )
    imp.set_defaults(func=cmd_import)

    review = sub.add_parser(
        "import-sample",
        help="print imported items drawn at random, to review before training",
        description="Read what the twin will learn from before you train it: who says what (them: the "
        "question you answered; you: your words, as the twin will say them) and what the privacy step masked.",
    )
    review.add_argument("persona_dir", type=Path, metavar="PERSONA_DIR", help="the persona folder")
    review.add_argument("-n", type=int, default=10, help="how many items (default: 10)")
    review.add_argument("--seed", type=int, help="the same seed draws the same items (default: a new draw)")
    review.add_argument("--format", choices=FORMATS, help="only this format's items")
    review.set_defaults(func=cmd_import_sample)

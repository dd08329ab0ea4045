"""`tabtwin new DIR`: start a persona laid out like the demo, and say what to fill in.

    DIR/                          README.md, seeds.jsonl, conversations.jsonl, writing/,
                                  canaries.jsonl, sealed.jsonl (templates/persona/)
    finetune/configs/<slug>.toml  the run config (templates/config.toml)
    models.toml                   the twin's [[model]] entry, appended commented out: its adapter does
                                  not exist until `tabtwin export`, and `python build.py` must keep
                                  working (templates/model-entry.toml); printed when there is no models.toml
    site/content/                 the site's pages (templates/site/), each only where none is

Nothing that exists is written over: a second run writes what is missing and says what it kept. The
stubs are valid data (`tabtwin data stats` runs on them) and true of any twin: its name, that it is a
small model, that it does not know what its author never wrote.
"""

from tabtwin.finetune.new.scaffold import Created, checklist, new_persona

__all__ = ["Created", "checklist", "new_persona"]

"""`python build.py` / `tabtwin build|serve|publish`: models.toml + site/ -> a static site.

registry (models.toml), content (the persona's pages), compose (twins from base + adapter),
stage (models, shards, the wasm), grounding (the index of the author's own material the page
retrieves from), suggestions (the chat page's question chips), render (pages, service worker, CSP),
budget (what the host takes), serve, publish.
Imports no torch and no native code."""

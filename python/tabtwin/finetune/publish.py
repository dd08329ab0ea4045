"""`tabtwin publish-model CONFIG --hf REPO`: the exported twin, its portable adapter and a
model card, uploaded to a Hugging Face model repository in one commit (huggingface_hub).

What goes up: <twin>.gguf (self-describing: tokenizer, chat template, system prompt), the
<twin>.adapter/ folder (LoRA weights + training record, what `tabtwin merge` needs), the
Ollama Modelfile and evaluation reports when they exist, and a README.md model card
written from the twin's own metadata (nothing typed twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.paths import sha256_file

EXTRAS = (".Modelfile", ".eval.html", ".eval.json", ".export.json")


def files_to_upload(gguf: Path) -> list[tuple[Path, str]]:
    """(local file, path in the repository) for the twin and what travels with it."""
    files = [(gguf, gguf.name)]
    adapter = gguf.with_name(gguf.stem + ".adapter")
    if not (adapter / "adapter_model.safetensors").is_file():
        raise TabtwinError(f"{adapter}: no portable adapter beside the twin; run `tabtwin export` again")
    files += [(f, f"adapter/{f.name}") for f in sorted(adapter.iterdir()) if f.is_file()]
    for suffix in EXTRAS:
        extra = gguf.with_name(gguf.stem + suffix)
        if extra.is_file():
            files.append((extra, extra.name))
    return files


def model_card(gguf: Path, repo: str) -> str:
    """README.md for the repository, from the portable adapter's record of the twin."""
    adapter = gguf.with_name(gguf.stem + ".adapter")
    twin = json.loads((adapter / "tabtwin.json").read_text())
    meta = twin["metadata"]
    provenance = json.loads(meta.get(keys.PROVENANCE, "{}"))
    persona = meta.get(keys.PERSONA, "a persona")
    tools = json.loads(meta.get(keys.TOOLS, "[]"))
    hp = provenance.get("hyperparameters") or {}
    lines = [
        "---",
        "library_name: gguf",
        "tags: [tabtwin, gguf, lora, twin]",
        "base_model_relation: adapter",
        "---",
        "",
        f"# {persona}: a tabtwin twin",
        "",
        f"A small language model fine-tuned (LoRA) to answer as **{persona}**, made with "
        "[tabtwin](https://github.com/) and meant to run in a browser tab. It is a small model: "
        "it will say wrong things, confidently.",
        "",
        "| | |",
        "| --- | --- |",
        f"| file | `{gguf.name}` ({gguf.stat().st_size / 1e6:.0f} MB, {twin.get('quantization')}) |",
        f"| base | `{provenance.get('base')}` (`{twin.get('base_file')}`, "
        f"sha256 `{twin.get('base_sha256', '')[:16]}…`) |",
        f"| LoRA | r {hp.get('r')}, alpha {hp.get('alpha')}, lr {hp.get('lr')}, {provenance.get('steps')} steps, "
        f"best epoch {provenance.get('best_epoch')} (holdout loss {provenance.get('best_holdout_loss')}) |",
        f"| dataset sha256 | `{provenance.get('dataset_sha256')}` |",
        f"| inline apps | {', '.join(tools) or 'none'} |",
        "",
        "## System prompt",
        "",
        "The twin was trained with this system prompt and carries it in the GGUF "
        f"(`{keys.SYSTEM_PROMPT}`); tabtwin's runtime uses it verbatim.",
        "",
        "```text",
        meta.get(keys.SYSTEM_PROMPT, ""),
        "```",
        "",
        "## Use",
        "",
        "```sh",
        f"huggingface-cli download {repo} {gguf.name} --local-dir .",
        f'tabtwin chat {gguf.name} --prompt "Who are you?"',
        "```",
        "",
        'In a tabtwin site, list it in `models.toml` with `url = "https://huggingface.co/'
        f'{repo}/resolve/<revision>/{gguf.name}"`, or compose it at build time from the base and '
        "`adapter/` (`base = ...`, `adapter = ...`).",
        "",
    ]
    return "\n".join(lines)


def publish(
    gguf: Path,
    repo: str,
    revision: str | None = None,
    private: bool = False,
    token: str | None = None,
    api=None,
    log: Callable[[str], None] = print,
) -> dict:
    """Create `repo` if needed and upload the twin and its companions in one commit."""
    from huggingface_hub import CommitOperationAdd, HfApi

    gguf = Path(gguf)
    if not gguf.is_file():
        raise TabtwinError(f"{gguf}: no exported twin; run `tabtwin export CONFIG` first")
    if "/" not in repo or repo.count("/") != 1:
        raise TabtwinError(f"--hf {repo!r}: a repository id is 'owner/name'")
    files = files_to_upload(gguf)
    card = model_card(gguf, repo).encode()
    api = api or HfApi(token=token)
    url = api.create_repo(repo, private=private, exist_ok=True, repo_type="model")
    if revision:
        api.create_branch(repo, branch=revision, exist_ok=True, repo_type="model")
    operations = [CommitOperationAdd(path_in_repo=dst, path_or_fileobj=str(src)) for src, dst in files]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card))
    total = sum(src.stat().st_size for src, _ in files) + len(card)
    log(f"uploading {len(operations)} files ({total / 1e6:.1f} MB) to {repo}" + (f"@{revision}" if revision else ""))
    info = api.create_commit(
        repo, operations, commit_message=f"tabtwin: {gguf.name}", revision=revision, repo_type="model"
    )
    log(f"published: {getattr(info, 'commit_url', None) or url}")
    commit = getattr(info, "oid", None)
    entry = models_toml_entry(gguf, repo, commit) if commit else None
    if entry:
        log("models.toml entry for the site (pinned to this commit; the page downloads it from the hub):\n" + entry)
    return {
        "repo": repo,
        "revision": revision,
        "files": [dst for _, dst in files] + ["README.md"],
        "bytes": total,
        "commit": commit,
        "models_toml": entry,
    }


HUB = "https://huggingface.co"


def models_toml_entry(gguf: Path, repo: str, commit: str) -> str:
    """The `[[model]]` table that serves an uploaded twin from the hub, pinned to the commit and the
    file's sha256 (the build checks both; the page's CSP lists the hub's download hosts)."""
    adapter = gguf.with_name(gguf.stem + ".adapter") / "tabtwin.json"
    persona = json.loads(adapter.read_text())["metadata"].get(keys.PERSONA, gguf.stem) if adapter.is_file() else None
    label = f"{persona} twin" if persona else gguf.stem
    return (
        "\n".join(
            [
                "[[model]]",
                f"id = {json.dumps(gguf.stem.lower())}",
                f"label = {json.dumps(label, ensure_ascii=False)}",
                f'url = "{HUB}/{repo}/resolve/{commit}/{gguf.name}"',
                'serve = "remote"',
                f'sha256 = "{sha256_file(gguf)}"',
            ]
        )
        + "\n"
    )

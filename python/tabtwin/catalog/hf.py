"""`hf:ORG/NAME@REVISION[:FILE]`: a model from a Hugging Face repository, pinned to a revision, fetched
once with huggingface_hub into ~/.cache/tabtwin/hf.

Without `:FILE` the spec names a transformers model directory (its config, tokenizer and safetensors
weights); with it, one file of the repository (a GGUF, say). The revision is required, so a config
means the same weights next year: a commit hash pins them for good (a tag or branch name is looked up
once, then read from the cache). A second fetch finds everything in the cache and asks the hub
nothing; a fetch cut short keeps the files it finished (and huggingface_hub resumes a file cut
mid-transfer with a range request), so running it again fetches only what is missing. The hub is
`HF_ENDPOINT` when set (a mirror, or the tests' stand-in on loopback), else huggingface.co.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tabtwin.errors import TabtwinError
from tabtwin.paths import cache_dir

PREFIX = "hf:"
# What a model directory needs for training and the tokenizer; never pickles, ONNX or other formats.
DIRECTORY_FILES = ["*.json", "*.safetensors", "*.model", "*.jinja", "*.txt"]
SPEC = re.compile(r"hf:(?P<repo>[\w.-]+/[\w.-]+)@(?P<revision>[^:\s]+)(?::(?P<file>\S+))?")
FORM = "hf:ORG/NAME@REVISION (a model directory) or hf:ORG/NAME@REVISION:FILE (one file, e.g. a GGUF)"


@dataclass(frozen=True)
class HfSpec:
    repo: str
    revision: str
    file: str | None = None

    def __str__(self) -> str:
        return f"{PREFIX}{self.repo}@{self.revision}" + (f":{self.file}" if self.file else "")


def is_hf(spec: str) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse(spec: str) -> HfSpec:
    """The parts of an `hf:` spec; a spec without a pinned revision is refused, saying why."""
    match = SPEC.fullmatch(spec.strip())
    if match is None:
        if re.fullmatch(r"hf:[\w.-]+/[\w.-]+(:\S+)?", spec.strip()):
            raise TabtwinError(
                f"{spec!r} names no revision: pin one, {FORM} (a commit hash pins it for good), so that the "
                "same config means the same weights later"
            )
        raise TabtwinError(f"{spec!r} is not a Hugging Face model: expected {FORM}")
    return HfSpec(match["repo"], match["revision"], match["file"])


def fetch(spec: str | HfSpec, log=print) -> Path:
    """The local path of `spec`: the snapshot directory (a model directory) or the file."""
    from huggingface_hub import hf_hub_download, snapshot_download

    spec = parse(spec) if isinstance(spec, str) else spec
    common = dict(repo_id=spec.repo, revision=spec.revision, cache_dir=str(cache_dir() / "hf"))
    endpoint = os.environ.get("HF_ENDPOINT") or None  # read now: huggingface_hub reads it once, at import

    def get(local_only: bool) -> str:
        if spec.file:
            return hf_hub_download(filename=spec.file, local_files_only=local_only, endpoint=endpoint, **common)
        return snapshot_download(
            allow_patterns=DIRECTORY_FILES, local_files_only=local_only, endpoint=endpoint, **common
        )

    try:
        return Path(get(local_only=True))
    except Exception:  # not (all) in the cache yet: what is missing comes from the hub
        pass
    log(f"fetching {spec} from {endpoint or 'huggingface.co'} into {cache_dir() / 'hf'}")
    try:
        return Path(get(local_only=False))
    except Exception as exc:  # the hub's errors are many types; the message is what an author needs
        raise TabtwinError(f"{spec}: cannot fetch it ({type(exc).__name__}: {exc})") from None

"""The run config: one TOML file drives `tabtwin data | train | export | eval`.

Every relative path in the file is resolved against the file's own folder, so a
config works from any working directory. Unknown keys are errors (a typo such as
`epoch = 8` must not silently train with the default), reported with the file, the line and the
nearest valid key.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from tabtwin import keys
from tabtwin.catalog import hf
from tabtwin.errors import TabtwinError
from tabtwin.gguf.sampling import RECOMMENDABLE
from tabtwin.gguf.sampling import problems as sampling_problems
from tabtwin.gguf.store import QUANTIZATIONS
from tabtwin.inputs import InputError, key_lines, line_of, read_toml, unknown_key

# The inline apps of the site (site/static/js/apps.js); a config may narrow the list.
DEFAULT_APPS = keys.APPS
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class ConfigError(TabtwinError):
    """A config that cannot be used; the message names the file and the key."""


@dataclass
class DataConfig:
    persona: Path  # folder with seeds.jsonl, conversations.jsonl, writing/
    out: Path | None = None  # built JSONL; default <train.output>/data
    holdout: float = 0.1  # fraction held out, per (source, kind) stratum
    seed: int = 0
    max_per_seed: int = 6  # cap on q x a expansions of one seed
    apps: tuple[str, ...] = DEFAULT_APPS
    writing_min_chars: int = 200  # shorter paragraphs are joined to the next one
    writing_max_chars: int = 1200  # longer ones are cut at a sentence end
    # Shares of training examples asked with the site's passages ([grounding] site), and of fact
    # questions asked without the passages that answer them (answered with one of dont_know).
    grounded: float = 0.0
    unanswerable: float = 0.0
    dont_know: tuple[str, ...] = ()
    # What is kept of imported/*.jsonl (`tabtwin import`; data/curate.py): the author's own seeds,
    # conversations and writing are all kept, an archive is trimmed so that it does not drown them.
    max_per_source: int = 1000  # conversations or paragraphs kept per imported file; 0 = all
    min_answer_chars: int = 20  # an imported item whose author's words are shorter is dropped
    max_message_chars: int = 2000  # an imported item with a longer message is dropped (a paste, a log)
    near_duplicate: float = 0.8  # word 3-shingle Jaccard at which an item repeats an earlier one; 1 = exact only


@dataclass
class TrainConfig:
    base: str  # default model id, GGUF file, Hugging Face model directory or hf:ORG/NAME@REVISION[:FILE]
    output: Path = Path("runs/twin")
    r: int = 32
    alpha: int = 64
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ALL_PROJECTIONS
    lr: float = 2e-4
    schedule: str = "cosine"  # "cosine" | "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    epochs: int = 8
    patience: int = 2  # evaluations without a better holdout loss before stopping
    max_seq_len: int = 512
    batch_size: int = 4  # examples per micro-batch; with packing, rows of up to max_seq_len tokens
    grad_accum: int = 1
    packing: bool = False  # whole examples side by side in each row, attention kept per example (batches.py)
    # start from an adapter's weights (a folder `train` wrote, e.g. the published twin's) instead of a
    # fresh LoRA: after the data grows, the run continues from what the twin already knows
    init_adapter: Path | None = None
    checkpoint_every: int = 50  # optimizer steps
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    qlora: bool = False  # 4-bit base (needs CUDA + bitsandbytes)
    threads: int = 0  # torch CPU threads; 0 = torch's default


@dataclass
class ExportConfig:
    output: Path | None = None  # default <train.output>/<persona slug>.gguf
    quantization: str = "auto"  # auto: q8_0 (gguf.store)
    persona: str = "twin"
    tokenizer_gguf: Path | None = None  # needed when the base is a Hugging Face directory
    ollama: bool = False  # also write an Ollama Modelfile beside the GGUF
    # the twin's recommended decoding, written into its GGUF (general.sampling.*): temperature, top_k,
    # top_p, repeat_penalty. The evaluation, the CLI and the page then decode it the same way.
    sampling: dict = field(default_factory=dict)


# Names a twin must not give as its own (the base models' and other assistants' identities);
# an identity canary fails when its reply names one of them (tabtwin/finetune/evaluate/scoring.py).
DEFAULT_OTHER_NAMES = (
    "SmolLM",
    "Qwen",
    "Alibaba",
    "Hugging Face",
    "OpenAI",
    "ChatGPT",
    "GPT",
    "Claude",
    "Anthropic",
    "Llama",
    "Meta",
    "Gemini",
    "Mistral",
)


@dataclass
class EvalConfig:
    max_tokens: int = 200
    compare_base: str | None = None  # a GGUF (or default model id) to run side by side
    limit: int = 0  # score at most this many holdout conversations (0 = all)
    canaries: Path | None = None  # canaries.jsonl: one question a line with its check (evaluate/canaries.py)
    # The sealed canaries: same format, asked only with `tabtwin eval --sealed`, never used to choose a
    # threshold or a method (the numbers that count).
    sealed: Path | None = None
    other_names: tuple[str, ...] = DEFAULT_OTHER_NAMES  # identities an identity canary must not claim


@dataclass
class GroundingConfig:
    # The site's models.toml whose [grounding] index the twin answers from: `tabtwin eval` asks every
    # question with and without the passages the core retrieves from it, as the page would.
    site: Path | None = None


@dataclass
class RunConfig:
    path: Path
    system_prompt: str
    data: DataConfig
    train: TrainConfig
    export: ExportConfig
    eval: EvalConfig = field(default_factory=EvalConfig)
    grounding: GroundingConfig = field(default_factory=GroundingConfig)
    lines: dict[tuple, int] = field(default_factory=dict, repr=False)  # where each key is written

    def at(self, *key) -> str:
        """`file:line` of a key ("train", "epochs"), else of its section, for a message."""
        return f"{self.path}:{line_of(self.lines, *key)}"

    @property
    def data_dir(self) -> Path:
        return self.data.out or self.train.output / "data"

    @property
    def adapter_dir(self) -> Path:
        return self.train.output / "adapter"

    @property
    def export_path(self) -> Path:
        return self.export.output or self.train.output / f"{slug(self.export.persona)}.gguf"


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")
    return "-".join(p for p in out.split("-") if p) or "twin"


SECTIONS = ("system", "data", "train", "export", "eval", "grounding")


def load(path: Path | str) -> RunConfig:
    path = Path(path).expanduser().resolve()
    try:
        raw, text = read_toml(path, "a run config")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    lines = key_lines(text)

    def at(*key) -> str:
        return f"{path}:{line_of(lines, *key)}"

    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(f"{at(name)}: {unknown_key(name, SECTIONS)} (a run config holds sections)")
        if not isinstance(value, dict):
            raise ConfigError(f"{at(name)}: '{name}' must be a section: [{name}] (got {value!r:.60})")
    system = raw.get("system", {})
    for key in system:
        if key != "prompt":
            raise ConfigError(f"{at('system', key)}: [system] {unknown_key(key, ['prompt'])}")
    prompt = system.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConfigError(
            f"{at('system', 'prompt')}: [system] prompt is required (a non-empty string): the one system "
            "prompt used for every training example and written into the exported file"
        )
    base_dir = path.parent
    cfg = RunConfig(
        path=path,
        system_prompt=prompt,
        data=_section(DataConfig, raw, "data", at, base_dir),
        train=_section(TrainConfig, raw, "train", at, base_dir),
        export=_section(ExportConfig, raw, "export", at, base_dir),
        eval=_section(EvalConfig, raw, "eval", at, base_dir),
        grounding=_section(GroundingConfig, raw, "grounding", at, base_dir),
        lines=lines,
    )
    _check(cfg)
    return cfg


def _section(cls, raw: dict, name: str, at, base_dir: Path):
    """One section as `cls`, every value checked against the field's type; `at(name, key)` is the
    `file:line` a problem with `key` is reported at."""
    values = dict(raw.get(name, {}))
    known = {f.name: f for f in fields(cls)}
    for fname in values:
        if fname not in known:
            raise ConfigError(f"{at(name, fname)}: [{name}] {unknown_key(fname, list(known))}")
    for fname, f in known.items():
        if fname not in values:
            continue
        value = values[fname]
        kind = str(f.type)
        where = f"{at(name, fname)}: [{name}] {fname}"
        if "Path" in kind:
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where} must be a path (a non-empty string), got {value!r}")
            value = _resolve(value, base_dir)
        elif "tuple" in kind:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where} must be a list of strings, got {value!r:.60}")
            value = tuple(value)
        elif kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        elif kind == "int" and not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        elif kind.startswith("str") and not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        elif kind == "bool" and not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        elif kind == "dict":
            if not isinstance(value, dict):
                raise ConfigError(f"{where} must be a table, e.g. {{ repeat_penalty = 1.1 }}")
            bad = sampling_problems(value, RECOMMENDABLE)
            if bad:
                raise ConfigError(
                    "; ".join(f"{at(name, fname, key)}: [{name}] {fname}.{key} {message}" for key, message in bad)
                )
        values[fname] = value
    for fname, f in known.items():  # relative defaults (e.g. output = runs/twin) are config-relative too
        if fname not in values and "Path" in str(f.type) and isinstance(f.default, Path):
            values[fname] = _resolve(f.default, base_dir)
    missing = [n for n, f in known.items() if n not in values and _is_required(f)]
    if missing:
        raise ConfigError(f"{at(name)}: [{name}] needs {', '.join(missing)}")
    return cls(**values)


def _is_required(f) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def _resolve(value: str, base_dir: Path) -> Path:
    """An absolute path for a config value, relative to the config's folder. Symlinks are kept (not
    resolved): a twin linked into finetune/twins/ keeps its reports and adapter beside the link."""
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else Path(os.path.abspath(base_dir / p))


def _check_data(cfg: RunConfig) -> None:
    at = cfg.at
    d = cfg.data
    if not 0.0 <= d.holdout < 1.0:
        raise ConfigError(f"{at('data', 'holdout')}: [data] holdout must be in [0, 1), got {d.holdout}")
    if d.max_per_seed < 1:
        raise ConfigError(f"{at('data', 'max_per_seed')}: [data] max_per_seed must be at least 1")
    for key, low in (("max_per_source", 0), ("min_answer_chars", 0), ("max_message_chars", 1)):
        if getattr(d, key) < low:
            raise ConfigError(f"{at('data', key)}: [data] {key} must be at least {low}")
    if not 0.0 < d.near_duplicate <= 1.0:
        raise ConfigError(
            f"{at('data', 'near_duplicate')}: [data] near_duplicate is a Jaccard in (0, 1] (1: exact repeats only), "
            f"got {d.near_duplicate}"
        )
    if not (0.0 <= d.grounded <= 1.0 and 0.0 <= d.unanswerable <= 1.0 and d.grounded + d.unanswerable <= 1.0):
        raise ConfigError(
            f"{at('data', 'grounded')}: [data] grounded and unanswerable are shares: each in [0, 1], together at most 1"
        )
    if (d.grounded or d.unanswerable) and cfg.grounding.site is None:
        raise ConfigError(
            f"{at('data', 'grounded')}: [data] grounded/unanswerable need [grounding] site (the site's models.toml)"
        )
    if d.unanswerable and not d.dont_know:
        raise ConfigError(
            f"{at('data', 'unanswerable')}: [data] unanswerable needs dont_know: the persona's ways of "
            "saying it does not know"
        )
    if not d.apps:
        raise ConfigError(
            f"{at('data', 'apps')}: [data] apps must name at least one app (or leave it out for the defaults)"
        )


def _check(cfg: RunConfig) -> None:
    _check_data(cfg)
    at = cfg.at
    t, e = cfg.train, cfg.export
    if t.schedule not in ("cosine", "constant"):
        raise ConfigError(
            f"{at('train', 'schedule')}: [train] schedule must be 'cosine' or 'constant', got {t.schedule!r}"
        )
    for key in ("r", "alpha", "epochs", "max_seq_len", "batch_size", "grad_accum", "checkpoint_every"):
        if getattr(t, key) < 1:
            raise ConfigError(f"{at('train', key)}: [train] {key} must be at least 1")
    if t.device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"{at('train', 'device')}: [train] device must be 'auto', 'cpu' or 'cuda', got {t.device!r}")
    bad = set(t.target_modules) - set(ALL_PROJECTIONS)
    if bad:
        raise ConfigError(
            f"{at('train', 'target_modules')}: [train] target_modules has unknown projection(s) {sorted(bad)}; "
            f"known: {list(ALL_PROJECTIONS)}"
        )
    if cfg.eval.max_tokens < 1:
        raise ConfigError(f"{at('eval', 'max_tokens')}: [eval] max_tokens must be at least 1")
    site = cfg.grounding.site
    if site is not None and not site.is_file():
        raise ConfigError(
            f"{at('grounding', 'site')}: [grounding] site: {site} does not exist (the site's models.toml)"
        )
    if cfg.eval.limit < 0:
        raise ConfigError(f"{at('eval', 'limit')}: [eval] limit must be 0 (every holdout conversation) or more")
    if not all(name.strip() for name in cfg.eval.other_names):
        raise ConfigError(f"{at('eval', 'other_names')}: [eval] other_names must not hold an empty name")
    if e.quantization not in QUANTIZATIONS:
        raise ConfigError(
            f"{at('export', 'quantization')}: [export] quantization must be one of {list(QUANTIZATIONS)}, "
            f"got {e.quantization!r}"
        )
    if hf.is_hf(t.base):  # from the hub: the spec must pin a revision (fetched when training starts)
        try:
            hf.parse(t.base)
        except TabtwinError as exc:
            raise ConfigError(f"{at('train', 'base')}: [train] base: {exc}") from None
    # A bare model id or path given as base: resolve relative file paths like the others.
    elif not Path(t.base).expanduser().is_absolute() and (cfg.path.parent / t.base).exists():
        t.base = str((cfg.path.parent / t.base).resolve())

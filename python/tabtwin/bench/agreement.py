"""`python -m tabtwin.bench.agreement`: how often a runtime picks the same next token as the float model.

For every GGUF under test and every runtime, the logits at each position of one fixed text corpus are
compared with transformers' F32 logits of the model's highest-precision copy (the reference):
  top1   the runtime's argmax is the reference's argmax (the number that decides greedy answers)
  top5   the reference's argmax is among the runtime's five best
  kl     KL(reference || runtime) summed over the reference's 64 most likely tokens, nats (the tail is left
         out, so a runtime equal to the reference can read a hair below zero)
  next   the runtime's argmax is the corpus' actual next token (the reference's own rate is printed beside)
Runtimes, each on the same file:
  core      tabtwin._core as installed, or any built extension given with --core [LABEL=]PATH (a copy of
            an older build stays measurable after the core is rebuilt)
  llama.cpp llama-cpp-python, when installed (logits of all positions from one batched eval)

The corpus is a few English paragraphs and one chat rendered with the model's own template, each a
separate document fed from position 0, tokenized by the core's tokenizer (the same ids go to every
runtime and to transformers). The core returns only the last position's logits, so each measured
position i costs a prefill of tokens[:i+1] (O(n^2) per document); `--stride` measures every Nth
position instead (auto: every position for models under 300 M parameters, every 4th above).

Each core row records the CANDLE_*/MISTRALRS_*/RAYON_* environment it ran under: on x86 CPUs with
AVX512-VNNI, candle 0.11 multiplies a Q8_0 matrix whose input width is a multiple of 256 (ffn_down here)
through repacked tiles with 8-bit activations per 256 values (Q8_K) instead of per 32 (Q8_0, what
llama.cpp and candle's wasm simd128 kernel use); MISTRALRS_FORCE_AVX2=1 turns that path off.

The reference's top-64 log-probabilities are cached in ~/.cache/tabtwin/bench/, keyed by the
reference's sha256 and the corpus' token ids (loading the reference takes 15 s and more).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tabtwin.paths import cache_dir

CORPUS_VERSION = 1
PARAGRAPHS = (
    "The lighthouse on the northern cape was built in 1872 from granite quarried a few miles inland. For more "
    "than a century its keepers climbed the spiral stairs every evening to light the lamp, wind the clockwork "
    "that turned the lens, and write the weather in a logbook. The work was lonely but steady: a keeper's "
    "family often lived in the cottage at the foot of the tower, grew vegetables behind a stone wall, and "
    "waited for the supply boat that came twice a month when the sea allowed. Today the light is automatic, "
    "and the cottage has become a small museum.",
    "Water boils at 100 degrees Celsius at sea level, but the boiling point drops as you climb, because the "
    "air pressure above the pot is lower. On a high mountain, pasta takes longer to cook even though the water "
    "is bubbling hard. Pressure cookers use the same principle in reverse: by sealing the pot, they raise the "
    "pressure inside, which lets the water reach about 120 degrees before it boils. Food cooks faster, and "
    "tough cuts of meat become tender in a fraction of the usual time.",
    "To plant a tree, dig a hole twice as wide as the root ball but no deeper than it. Loosen the roots gently "
    "with your fingers if they circle the pot, set the tree so that the top of the root ball sits level with "
    "the ground, and fill the hole with the soil you removed. Water slowly and deeply, then spread a ring of "
    "mulch around the trunk, leaving a small gap so that the bark stays dry. During the first summer, water "
    "once a week whenever it does not rain.",
)
CHAT = (
    ("system", "You are a helpful assistant. Answer briefly and accurately."),
    ("user", "What is the capital of France?"),
    (
        "assistant",
        "The capital of France is Paris. It is also the country's largest city, known for the Eiffel Tower, "
        "the Louvre and the river Seine.",
    ),
    ("user", "How do I reverse a list in Python?"),
    (
        "assistant",
        "Use slicing or the built-in method. `items[::-1]` returns a new reversed list, while "
        "`items.reverse()` reverses the list in place and returns None. If you only need to loop backwards, "
        "`reversed(items)` gives an iterator without copying the list.",
    ),
    ("user", "Thanks! Can you sum up both answers in one sentence?"),
    (
        "assistant",
        "Paris is the capital of France, and in Python you reverse a list with items[::-1], items.reverse() "
        "or reversed(items).",
    ),
)
TOP_K = 64  # reference log-probabilities kept per position (top-1, top-5 and the KL estimate use them)
NEAR_TIE_NATS = 0.1  # a disagreement where the reference's two best tokens are closer than this is a near-tie
LARGE_MODEL_PARAMETERS = 300e6  # --stride auto measures every 4th position above this
REPORTED_DISAGREEMENTS = 40


# --- the agreement math (no model needed; tests/bench/test_agreement.py)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities along the last axis, computed in float64."""
    x = np.asarray(logits, dtype=np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def top_k(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, log-probabilities) of the k most likely tokens of each row, best first; ties keep the lower id."""
    lp = log_softmax(np.atleast_2d(logits))
    k = min(k, lp.shape[-1])
    ids = np.argsort(-lp, axis=-1, kind="stable")[:, :k]
    return ids.astype(np.int32), np.take_along_axis(lp, ids, axis=-1).astype(np.float32)


@dataclass
class Position:
    """One position's comparison of a runtime's logits with the reference's top-k."""

    agree: bool
    in_top5: bool
    kl: float
    runtime_top1: int
    reference_top1: int
    reference_margin: float  # nats between the reference's best and second-best token
    next_token: int | None  # the corpus' actual next token (None at a document's end)


def compare(ref_ids: np.ndarray, ref_lp: np.ndarray, logits: np.ndarray, next_token: int | None = None) -> Position:
    """Compare one position: `ref_ids`/`ref_lp` the reference's top-k (best first), `logits` the runtime's."""
    lp = log_softmax(logits)
    top1 = int(np.argmax(logits))  # the first maximum, as every runtime's greedy sampler takes it
    top5 = np.argpartition(-lp, 5)[:5] if lp.shape[-1] > 5 else np.arange(lp.shape[-1])
    p_ref = np.exp(ref_lp.astype(np.float64))
    kl = float(np.sum(p_ref * (ref_lp.astype(np.float64) - lp[ref_ids])))
    return Position(
        agree=top1 == int(ref_ids[0]),
        in_top5=bool(np.any(top5 == ref_ids[0])),
        kl=kl,
        runtime_top1=top1,
        reference_top1=int(ref_ids[0]),
        reference_margin=float(ref_lp[0] - ref_lp[1]) if len(ref_lp) > 1 else float("inf"),
        next_token=next_token,
    )


def summarize(positions: list[Position]) -> dict:
    """The metrics of one (runtime, file) pair over the positions compared."""
    n = len(positions)
    if n == 0:
        return {"positions": 0}
    with_next = [p for p in positions if p.next_token is not None]
    disagreements = [p for p in positions if not p.agree]
    return {
        "positions": n,
        "top1_agreement": sum(p.agree for p in positions) / n,
        "top5_contains_reference_top1": sum(p.in_top5 for p in positions) / n,
        "mean_kl_top64": float(np.mean([p.kl for p in positions])),
        "next_token_accuracy": (
            sum(p.runtime_top1 == p.next_token for p in with_next) / len(with_next) if with_next else None
        ),
        "reference_next_token_accuracy": (
            sum(p.reference_top1 == p.next_token for p in with_next) / len(with_next) if with_next else None
        ),
        "disagreements": len(disagreements),
        "disagreements_at_near_ties": sum(p.reference_margin < NEAR_TIE_NATS for p in disagreements),
    }


def measured_positions(length: int, stride: int) -> list[int]:
    """The positions measured in a document of `length` tokens: every `stride`th, ending at the last."""
    return list(range((length - 1) % stride, length, stride))


def corpus_hash(documents: list[list[int]]) -> str:
    return hashlib.sha256(json.dumps({"version": CORPUS_VERSION, "documents": documents}).encode()).hexdigest()


# --- files, hashes, families


def sha256_of(path: Path) -> str:
    """sha256 of a file (of a directory's model files), remembered by path, size and mtime."""
    memo_path = cache_dir() / "bench" / "sha256.json"
    memo = json.loads(memo_path.read_text()) if memo_path.is_file() else {}
    files = sorted(f for f in path.iterdir() if f.suffix in (".json", ".safetensors")) if path.is_dir() else [path]
    stamp = [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    key = str(path.resolve())
    if memo.get(key, {}).get("stamp") == stamp:
        return memo[key]["sha256"]
    digest = hashlib.sha256()
    for f in files:
        part = hashlib.sha256()
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 24):
                part.update(chunk)
        if path.is_dir():
            digest.update(f.name.encode())
            digest.update(part.hexdigest().encode())
        else:
            digest = part
    memo[key] = {"stamp": stamp, "sha256": digest.hexdigest()}
    memo_path.parent.mkdir(parents=True, exist_ok=True)
    memo_path.write_text(json.dumps(memo, indent=1) + "\n")
    return memo[key]["sha256"]


@dataclass(frozen=True)
class Family:
    """What makes two model files the same model for this comparison (shape and vocabulary)."""

    architecture: str
    layers: int
    hidden: int
    vocab: int


@functools.cache
def gguf_facts(path: Path) -> dict:
    """Shape, vocabulary, parameter count and tensor types from the header (read once per file)."""
    from tabtwin.gguf.read import field, open_gguf

    reader = open_gguf(path)
    arch = field(reader, "general.architecture")
    tokens = reader.fields["tokenizer.ggml.tokens"]
    return {
        "family": Family(
            arch,
            int(field(reader, f"{arch}.block_count")),
            int(field(reader, f"{arch}.embedding_length")),
            len(tokens.data),
        ),
        "parameters": int(sum(int(t.n_elements) for t in reader.tensors)),
        "quantization": dict(Counter(t.tensor_type.name for t in reader.tensors).most_common()),
    }


def reference_family(path: Path) -> Family:
    if path.is_dir():
        config = json.loads((path / "config.json").read_text())
        return Family(config["model_type"], config["num_hidden_layers"], config["hidden_size"], config["vocab_size"])
    return gguf_facts(path)["family"]


def pick_reference(family: Family, candidates: list[Path]) -> Path:
    for candidate in candidates:
        if reference_family(candidate) == family:
            return candidate
    raise SystemExit(
        f"agreement: no reference for {family} among {', '.join(map(str, candidates)) or 'nothing'}; "
        "pass --reference FILE.gguf (or a Hugging Face directory)"
    )


def default_references() -> list[Path]:
    """The sources the default models are made from (their highest-precision copies here)."""
    return sorted((cache_dir() / "src").glob("*.gguf"))


def default_files(log=print) -> list[Path]:
    """SmolLM2-135M F16 (served) and all-Q8_0, Qwen2.5-Coder-0.5B Q8_0 (served) and Q4_0; made if missing."""
    from tabtwin.catalog import defaults
    from tabtwin.gguf.store import STORAGE_REVISION, requantize

    made = cache_dir() / "bench" / "models"
    smollm = defaults.find("smollm2-135m-instruct")
    qwen = defaults.find("qwen2.5-coder-0.5b-instruct")
    files = [defaults.fetch(smollm, log=log)]
    for model, policy in ((smollm, "q8_0"), (qwen, "q4_0")):
        path = made / f"{model.id}.{policy}.r{STORAGE_REVISION}.gguf"
        if not path.exists():
            log(f"agreement: making {path} ({policy} from {model.source_name})")
            made.mkdir(parents=True, exist_ok=True)
            requantize(defaults.unpack_source(model, log), path, progress=log, policy=policy)
        files.append(path)
    files.insert(2, defaults.fetch(qwen, log=log))
    return files


# --- the corpus, tokenized by a core


def tokenize(chat) -> tuple[list[str], list[list[int]]]:
    """(names, token ids) of the corpus' documents, by a `tabtwin._core.Chat` (its tokenizer and template)."""
    names = [f"paragraph {i + 1}" for i in range(len(PARAGRAPHS))] + ["chat"]
    texts = [*PARAGRAPHS, chat.render(list(CHAT))]
    return names, [list(chat.encode(t)) for t in texts]


# --- the reference


def load_reference_model(reference: Path, log):
    """transformers' float32 model for `reference`: a Hugging Face directory, tabtwin's cached float32
    copy of a GGUF (~/.cache/tabtwin/bases/, made by `tabtwin train`), else the GGUF itself."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
    if reference.is_dir():
        return AutoModelForCausalLM.from_pretrained(reference, dtype=torch.float32), str(reference)
    base = cache_dir() / "bases" / sha256_of(reference)[:16]
    source = base / "tabtwin_source.json"
    if source.is_file() and json.loads(source.read_text()).get("sha256") == sha256_of(reference):
        log(f"agreement: reference {reference.name} from its float32 copy {base}")
        return AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), str(base)
    log(f"agreement: loading {reference.name} in transformers (float32; a while)")
    model = AutoModelForCausalLM.from_pretrained(reference.parent, gguf_file=reference.name, dtype=torch.float32)
    return model, str(reference)


def reference_topk(reference: Path, documents: list[list[int]], threads: int, log=print) -> dict:
    """The reference's top-K ids and log-probabilities at every position of every document (cached)."""
    key = f"{sha256_of(reference)[:16]}-{corpus_hash(documents)[:16]}"
    path = cache_dir() / "bench" / f"reference-{key}.npz"
    if path.is_file():
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return {
                "ids": [data[f"ids{i}"] for i in range(len(documents))],
                "lp": [data[f"lp{i}"] for i in range(len(documents))],
                "meta": meta | {"cache": str(path), "cached": True},
            }
    import torch
    import transformers

    torch.set_num_threads(threads)
    started = time.perf_counter()
    model, loaded_from = load_reference_model(reference, log)
    model.eval()
    load_s = time.perf_counter() - started
    ids, lps = [], []
    with torch.no_grad():
        for doc in documents:
            logits = model(input_ids=torch.tensor([doc])).logits[0].float().numpy()
            top_ids, top_lp = top_k(logits, TOP_K)
            ids.append(top_ids)
            lps.append(top_lp)
    meta = {
        "reference": str(reference),
        "sha256": sha256_of(reference),
        "loaded_from": loaded_from,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "load_s": round(load_s, 1),
        "forward_s": round(time.perf_counter() - started - load_s, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        meta=json.dumps(meta),
        **{f"ids{i}": a for i, a in enumerate(ids)},
        **{f"lp{i}": a for i, a in enumerate(lps)},
    )
    tmp.replace(path)
    return {"ids": ids, "lp": lps, "meta": meta | {"cache": str(path), "cached": False}}


# --- runtimes


def load_core(path: Path | None):
    """tabtwin._core as installed (path None) or a built extension at `path`, under the same module name
    (not put in sys.modules, so the installed one stays importable beside it)."""
    if path is None:
        import tabtwin._core as core

        return core
    path = Path(path).expanduser()
    if not path.is_file():
        raise SystemExit(f"agreement: --core {path}: no such file")
    loader = importlib.machinery.ExtensionFileLoader("tabtwin._core", str(path))
    spec = importlib.util.spec_from_file_location("tabtwin._core", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@dataclass
class CoreRuntime:
    """The core's `logits` probe: last-position logits after feeding a prefix from position 0 ("prefill"),
    or after prefilling all but the last token and stepping once through the KV cache ("step")."""

    label: str
    path: Path | None
    mode: str = "prefill"
    module: object = field(default=None, repr=False)

    def __post_init__(self):
        self.module = load_core(self.path)

    def describe(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k.startswith(("CANDLE_", "MISTRALRS_", "RAYON_"))}
        return {"runtime": self.label, "kind": "core", "core": str(self.module.__file__), "mode": self.mode, "env": env}

    def open(self, gguf: Path):
        return self.module.Chat.from_path(gguf)

    def logits_at(self, model, doc: list[int], positions: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        for i in positions:
            if self.mode == "step" and i > 0:
                out = model.logits_stepwise(doc[: i + 1], i)
            else:
                out = model.logits(doc[: i + 1])
            yield i, np.asarray(out, dtype=np.float32)


@dataclass
class LlamaCppRuntime:
    """llama-cpp-python: one batched eval of the whole document, logits of every position."""

    threads: int
    label: str = "llama.cpp"

    def describe(self) -> dict:
        import llama_cpp

        return {"runtime": self.label, "kind": "llama.cpp", "llama_cpp_python": llama_cpp.__version__, "mode": "batch"}

    def open(self, gguf: Path):
        from llama_cpp import Llama

        return Llama(
            model_path=str(gguf), n_ctx=1024, n_batch=1024, logits_all=True, n_threads=self.threads, verbose=False
        )

    def logits_at(self, model, doc: list[int], positions: list[int]) -> Iterator[tuple[int, np.ndarray]]:
        model.reset()
        model.eval(doc)
        scores = model.scores
        for i in positions:
            yield i, np.array(scores[i], dtype=np.float32)


def llama_cpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


# --- the measurement


def measure(runtime, gguf: Path, documents, names, reference: dict, stride: int, decode, log) -> dict:
    started = time.perf_counter()
    model = runtime.open(gguf)
    load_s = time.perf_counter() - started
    positions: list[Position] = []
    where: list[tuple[str, int]] = []
    for name, doc, ids, lp in zip(names, documents, reference["ids"], reference["lp"]):
        for i, logits in runtime.logits_at(model, doc, measured_positions(len(doc), stride)):
            positions.append(compare(ids[i], lp[i], logits, doc[i + 1] if i + 1 < len(doc) else None))
            where.append((name, i))
        log(f"    {runtime.label} {gguf.name} {name}: {len(doc)} tokens")
    if hasattr(model, "close"):  # llama-cpp-python frees its model here, not noisily at interpreter exit
        model.close()
    result = summarize(positions)
    result["argmax"] = [[name, i, p.runtime_top1] for (name, i), p in zip(where, positions)]
    result["load_s"] = round(load_s, 2)
    result["measure_s"] = round(time.perf_counter() - started - load_s, 1)
    result["disagreement_examples"] = [
        {
            "document": name,
            "position": i,
            "reference": decode(p.reference_top1),
            "runtime": decode(p.runtime_top1),
            "reference_margin_nats": round(p.reference_margin, 3),
        }
        for (name, i), p in zip(where, positions)
        if not p.agree
    ][:REPORTED_DISAGREEMENTS]
    return result


def pairwise(results: list[dict]) -> list[dict]:
    """Top-1 agreement between every two runtimes measured on the same file, over their common positions
    (does the core answer as llama.cpp does on this file?)."""
    by_file: dict[str, list[dict]] = {}
    for row in results:
        if "argmax" in row:
            by_file.setdefault(row["file"], []).append(row)
    pairs = []
    for file, rows in by_file.items():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                ta = {(d, p): t for d, p, t in a["argmax"]}
                tb = {(d, p): t for d, p, t in b["argmax"]}
                common = ta.keys() & tb.keys()
                if common:
                    same = sum(ta[k] == tb[k] for k in common) / len(common)
                    pairs.append({"file": file, "runtimes": [a["runtime"], b["runtime"]], "positions": len(common)})
                    pairs[-1]["top1_agreement"] = same
    return pairs


def table(results: list[dict]) -> str:
    head = (
        f"{'runtime':<12} {'file':<50} {'pos':>4} {'top1':>7} {'top5':>7} {'KL64':>7} {'next':>6} {'ref':>6} "
        f"{'ties':>5} {'s':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        if "skipped" in r:
            lines.append(f"{r['runtime']:<12} {Path(r['file']).name:<50} skipped: {r['skipped']}")
            continue

        def pct(x):
            return f"{100 * x:6.1f}%" if x is not None else "     -"

        lines.append(
            f"{r['runtime']:<12} {Path(r['file']).name:<50} {r['positions']:>4} {pct(r['top1_agreement'])} "
            f"{pct(r['top5_contains_reference_top1'])} {r['mean_kl_top64']:7.4f} "
            f"{pct(r['next_token_accuracy'])[1:]} {pct(r['reference_next_token_accuracy'])[1:]} "
            f"{r['disagreements_at_near_ties']:>2}/{r['disagreements']:<2} "
            f"{r['measure_s']:6.0f}"
        )
    return "\n".join(lines)


def parse_core(spec: str) -> tuple[str, Path | None]:
    if spec == "installed":
        return "core", None
    label, sep, path = spec.partition("=")
    if not sep:
        label, path = "core", spec
    return label, None if path == "installed" else Path(path).expanduser()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tabtwin bench agreement",
        description="Top-1 agreement of runtimes with transformers' F32 logits on one text corpus.",
    )
    parser.add_argument(
        "gguf", nargs="*", type=Path, help="files under test (default: SmolLM2 F16 and Q8_0, Qwen 0.5B Q8_0 and Q4_0)"
    )
    parser.add_argument(
        "--reference",
        action="append",
        type=Path,
        default=[],
        help="highest-precision copy (GGUF or Hugging Face dir), repeatable; each file takes the one of its "
        "shape and vocabulary (default: the sources in ~/.cache/tabtwin/src)",
    )
    parser.add_argument(
        "--core",
        action="append",
        default=[],
        metavar="[LABEL=]PATH|installed",
        help="a built tabtwin._core extension to measure, repeatable (default: the installed one)",
    )
    parser.add_argument("--no-llama-cpp", action="store_true", help="skip llama-cpp-python")
    parser.add_argument(
        "--no-core", action="store_true", help="measure no core (the first --core still tokenizes the corpus)"
    )
    parser.add_argument(
        "--stride", default="auto", help="measure every Nth position (auto: 1 under 300 M parameters, else 4)"
    )
    parser.add_argument(
        "--mode", choices=("prefill", "step"), default="prefill", help="how the core reaches a position"
    )
    parser.add_argument("--threads", type=int, default=min(os.cpu_count() or 1, 4))
    parser.add_argument("--out", type=Path, default=Path("bench-results/agreement.json"))
    parser.add_argument(
        "--append", action="store_true", help="keep --out's other rows (a row of the same runtime and file is replaced)"
    )
    args = parser.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    files = [p.expanduser() for p in args.gguf] or default_files(log)
    references = [p.expanduser() for p in args.reference] or default_references()
    cores = [CoreRuntime(label, path, args.mode) for label, path in map(parse_core, args.core or ["installed"])]
    runtimes = [] if args.no_core else list(cores)
    skipped_llama = None
    if args.no_llama_cpp:
        skipped_llama = "--no-llama-cpp"
    elif llama_cpp_available():
        runtimes.append(LlamaCppRuntime(args.threads))
    else:
        skipped_llama = "llama_cpp is not installed (pip install llama-cpp-python); the llama.cpp column is skipped"
        log(f"agreement: {skipped_llama}")

    facts = {f: gguf_facts(f) for f in files}
    families: dict[Family, list[Path]] = {}
    for f in files:
        families.setdefault(facts[f]["family"], []).append(f)

    report = {
        "what": "top-1 agreement of each runtime's next-token logits with transformers' float32 reference",
        "corpus_version": CORPUS_VERSION,
        "corpora": {},
        "near_tie_nats": NEAR_TIE_NATS,
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "threads": args.threads,
        "results": [],
    }
    if args.append and args.out.is_file():
        previous = json.loads(args.out.read_text())
        report["corpora"] = previous.get("corpora", {})
        report["results"] = previous.get("results", [])

    def add(row: dict) -> None:
        """Add (or replace) a row and write the report at once: a long run keeps what it measured."""

        def key(r):
            return r["runtime"], r["file"], r.get("mode")

        if "skipped" in row and any(key(r) == key(row) and "skipped" not in r for r in report["results"]):
            return  # --append keeps a measured row over a skipped one
        report["results"] = [r for r in report["results"] if key(r) != key(row)]
        report["results"].append(row)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")

    for family, members in families.items():
        reference_path = pick_reference(family, references)
        tokenizer = cores[0].open(members[0])
        names, documents = tokenize(tokenizer)
        log(f"agreement: {family.architecture} corpus: {sum(map(len, documents))} tokens in {len(documents)} documents")
        reference = reference_topk(reference_path, documents, args.threads, log)
        params = facts[members[0]]["parameters"]
        stride = int(args.stride) if args.stride != "auto" else (1 if params < LARGE_MODEL_PARAMETERS else 4)
        report["corpora"][family.architecture] = {
            "family": vars(family),
            "reference": reference["meta"],
            "documents": [{"name": n, "tokens": len(d)} for n, d in zip(names, documents)],
            "corpus_sha256": corpus_hash(documents),
        }

        def decode(token, chat=tokenizer):
            return chat.decode([token])

        for f in members:
            for runtime in runtimes:
                log(f"agreement: {runtime.label} on {f.name} (stride {stride})")
                row = {**runtime.describe(), "file": str(f), "sha256": sha256_of(f), "bytes": f.stat().st_size}
                row |= {"quantization": facts[f]["quantization"], "stride": stride}
                row |= measure(runtime, f, documents, names, reference, stride, decode, log)
                add(row)
            if skipped_llama:
                add({"runtime": "llama.cpp", "file": str(f), "mode": "batch", "skipped": skipped_llama})

    report["pairwise"] = pairwise(report["results"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report["results"]))
    for pair in report["pairwise"]:
        print(
            f"{' vs '.join(pair['runtimes'])} on {Path(pair['file']).name}: the same argmax at "
            f"{100 * pair['top1_agreement']:.1f}% of {pair['positions']} positions"
        )
    print(
        f"(top1: runtime argmax = reference argmax; top5: reference argmax in the runtime's top 5; KL64 nats; "
        f"next: argmax = the corpus' next token, ref: the reference's; ties: disagreements where the reference's "
        f"margin < {NEAR_TIE_NATS} nats)\nwrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

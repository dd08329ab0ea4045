"""Reading a persona folder: seeds, conversations and writing, each item tagged with file:line.

    finetune/data/<persona>/
      seeds.jsonl           {"q": [...], "a": [...], "kind": ..., "think"?: ..., "tool"?: {"app", "params"}}
      conversations.jsonl   {"messages": [{"role": "user"|"assistant", "content": ...}, ...], "kind"?: ...}
      writing/              essays and notes (.md, .txt, .html), cut into paragraph pairs (writing.py)
      imported/*.jsonl      the author's archives as `tabtwin import` wrote them (imported.py)

Every problem is collected with its place (`seeds.jsonl:12: ...`) and raised together as
one DataError, so an author fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tabtwin import keys
from tabtwin.errors import TabtwinError
from tabtwin.inputs import InputError, jsonl_objects, read_text

SEED_KINDS = ("fact", "tool", "contrast", "style")
SEED_KEYS = {"q", "a", "kind", "think", "tool"}
# Text that would break the chat format if it appeared inside a message.
FORBIDDEN_MARKERS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
TOOL_PREFIX = keys.TOOL_PREFIX
THINK_OPEN, THINK_CLOSE = keys.THINK_OPEN, keys.THINK_CLOSE


class DataError(TabtwinError):
    """Problems in the persona's files; `problems` are 'file:line: message' strings."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:30]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(f"{len(problems)} problem(s) in the training data:\n  " + "\n  ".join(shown) + more)


@dataclass
class Seed:
    """One seed line: question variants x answer variants of one fact, tool use, contrast or style."""

    where: str
    questions: list[str]
    answers: list[str]
    kind: str
    think: str | None = None
    tool: dict | None = None


@dataclass
class Conversation:
    """A ready conversation (user/assistant turns), from conversations.jsonl or cut from writing."""

    where: str
    messages: list[dict]
    kind: str
    origin: str  # "conversations" | "writing" | "imported/<format>"


@dataclass
class Persona:
    folder: Path
    seeds: list[Seed] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    writing: list[Conversation] = field(default_factory=list)
    imported: list[Conversation] = field(default_factory=list)  # all of it; curate.py chooses what trains
    files: dict[str, int] = field(default_factory=dict)  # what was read: name -> items


def read_persona(folder: Path, apps: tuple[str, ...], writing_limits: tuple[int, int] = (200, 1200)) -> Persona:
    """Read and validate every source in `folder`; raise DataError listing all problems."""
    from tabtwin.finetune.data.imported import FOLDER, read_imported
    from tabtwin.finetune.data.writing import read_writing

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError([f"{folder}: the persona folder does not exist"])
    persona = Persona(folder)
    problems: list[str] = []
    seeds_file, conv_file, writing_dir = folder / "seeds.jsonl", folder / "conversations.jsonl", folder / "writing"
    if seeds_file.exists():
        persona.seeds = read_seeds(seeds_file, apps, problems)
        persona.files[seeds_file.name] = len(persona.seeds)
    if conv_file.exists():
        persona.conversations = read_conversations(conv_file, apps, problems)
        persona.files[conv_file.name] = len(persona.conversations)
    if writing_dir.is_dir():
        persona.writing, n_files = read_writing(writing_dir, *writing_limits)
        for conv in persona.writing:
            problems += check_messages(conv.messages, conv.where, apps)
        persona.files["writing/"] = n_files
    if (folder / FOLDER).is_dir():
        persona.imported, records = read_imported(folder / FOLDER, apps, writing_limits, problems)
        persona.files.update(records)
    if not persona.files:
        problems.append(f"{folder}: no seeds.jsonl, conversations.jsonl, writing/ or imported/*.jsonl found")
    if problems:
        raise DataError(problems)
    return persona


def read_jsonl(path: Path, problems: list[str]):
    """Yield (line number, object) for each non-blank line; a file that cannot be read (a folder, not
    UTF-8), malformed lines and an empty file become problems."""
    try:
        text = read_text(path, "one JSON object a line")
    except InputError as exc:
        problems.append(str(exc).replace(str(path), path.name, 1))
        return
    yield from jsonl_objects(path, text, problems, path.name)


def _variants(value, name: str, where: str, problems: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f'{where}: "{name}" must be a non-empty list of non-empty strings')
        return []
    return [v.strip() for v in value]


def read_seeds(path: Path, apps: tuple[str, ...], problems: list[str]) -> list[Seed]:
    seeds = []
    for number, obj in read_jsonl(path, problems):
        where = f"{path.name}:{number}"
        before = len(problems)
        unknown = set(obj) - SEED_KEYS
        if unknown:
            problems.append(f"{where}: unknown key(s) {sorted(unknown)}; a seed has {sorted(SEED_KEYS)}")
        questions = _variants(obj.get("q"), "q", where, problems)
        answers = _variants(obj.get("a"), "a", where, problems)
        kind = obj.get("kind", "fact")
        if kind not in SEED_KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {list(SEED_KINDS)}")
        think = obj.get("think")
        if think is not None and (not isinstance(think, str) or not think.strip()):
            problems.append(f'{where}: "think" must be a non-empty string')
        tool = obj.get("tool")
        if tool is not None:
            problems += check_tool(tool, where, apps)
        if len(problems) == before:
            seed = Seed(where, questions, answers, kind, think.strip() if think else None, tool)
            for q in questions:
                problems += check_text(q, where)
            for a in answers:
                problems += check_assistant_text(assistant_text(seed, a), where, apps)
            seeds.append(seed)
    return seeds


def read_conversations(path: Path, apps: tuple[str, ...], problems: list[str]) -> list[Conversation]:
    conversations = []
    for number, obj in read_jsonl(path, problems):
        where = f"{path.name}:{number}"
        messages = obj.get("messages")
        unknown = set(obj) - {"messages", "kind"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {sorted(unknown)}; a conversation has 'messages' and 'kind'")
        if not isinstance(messages, list) or not messages:
            problems.append(f'{where}: "messages" must be a non-empty list')
            continue
        kind = obj.get("kind", "conversation")
        if not isinstance(kind, str) or not kind:
            problems.append(f'{where}: "kind" must be a string')
            continue
        found = check_messages(messages, where, apps)
        problems += found
        if not found:
            messages = [{"role": m["role"], "content": m["content"]} for m in messages]
            conversations.append(Conversation(where, messages, kind, "conversations"))
    return conversations


def check_messages(messages: list, where: str, apps: tuple[str, ...]) -> list[str]:
    """User and assistant turns alternating, starting with the user, with at least one answer."""
    problems = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or "role" not in m:
            problems.append(f'{where}: message {i + 1} must be {{"role": ..., "content": "..."}}')
            return problems
        role = m["role"]
        if role == "system":
            problems.append(
                f"{where}: message {i + 1} has role 'system'; the config's [system] prompt is "
                "used for every example, leave it out here"
            )
        elif role not in ("user", "assistant"):
            problems.append(f"{where}: message {i + 1} has role {role!r}; use 'user' or 'assistant'")
        elif role != ("user" if i % 2 == 0 else "assistant"):
            problems.append(
                f"{where}: message {i + 1} is from the {role} but turns must alternate, starting with the user"
            )
        elif not m["content"].strip():
            problems.append(f"{where}: message {i + 1} is empty")
        elif role == "assistant":
            problems += check_assistant_text(m["content"], where, apps)
        else:
            problems += check_text(m["content"], where)
    if not problems and not any(m["role"] == "assistant" for m in messages):
        problems.append(f"{where}: conversation without an assistant turn (nothing to learn from)")
    return problems


def check_text(text: str, where: str) -> list[str]:
    return [f"{where}: contains the chat-format marker {m!r}" for m in FORBIDDEN_MARKERS if m in text]


def check_tool(tool, where: str, apps: tuple[str, ...]) -> list[str]:
    if not isinstance(tool, dict) or set(tool) - {"app", "params"} or not isinstance(tool.get("app"), str):
        return [f'{where}: a tool must be {{"app": "...", "params": {{...}}}}']
    if tool["app"] not in apps:
        return [f"{where}: TOOL names app {tool['app']!r}, which is not in the allowed apps {list(apps)}"]
    if not isinstance(tool.get("params", {}), dict):
        return [f"{where}: TOOL params must be a JSON object"]
    return []


def check_assistant_text(text: str, where: str, apps: tuple[str, ...]) -> list[str]:
    """TOOL lines parse and name allowed apps; a thought opens the answer and is closed."""
    problems = check_text(text, where)
    for line in text.splitlines():
        if line.startswith(TOOL_PREFIX):
            try:
                tool = json.loads(line[len(TOOL_PREFIX) :])
            except json.JSONDecodeError:
                problems.append(f"{where}: TOOL line is not valid JSON: {line[:80]!r}")
                continue
            problems += check_tool(tool, where, apps)
    if THINK_OPEN in text or THINK_CLOSE in text:
        if not text.startswith(THINK_OPEN) or text.count(THINK_OPEN) != 1 or text.count(THINK_CLOSE) != 1:
            problems.append(
                f"{where}: a thought must open the answer once: {THINK_OPEN}...{THINK_CLOSE} then the answer"
            )
    return problems


def tool_line(tool: dict) -> str:
    """The exact TOOL line the model learns: compact JSON, app first."""
    payload = {"app": tool["app"], "params": tool.get("params", {})}
    return TOOL_PREFIX + json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def assistant_text(seed: Seed, answer: str) -> str:
    """What the assistant says for one answer variant: [thought] answer [TOOL line]."""
    text = answer
    if seed.tool is not None:
        text = f"{text}\n{tool_line(seed.tool)}"
    if seed.think:
        text = f"{THINK_OPEN}{seed.think}{THINK_CLOSE}\n{text}"
    return text

"""Bad model files give a sentence that names the problem, never a panic."""

import re
import subprocess
import sys

import pytest
from bad_gguf import hostile_files, hostile_metadata, write_gpt2_file

from tabtwin._core import Chat
from tabtwin.gguf.read import GgufError, describe


def inspect(path, capped=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tabtwin.cli", "inspect", str(path)],
        capture_output=True,
        text=True,
        preexec_fn=capped,
        timeout=120,
    )


def test_unsupported_architecture_is_named(tmp_path, tiny_gguf):
    path = tmp_path / "gpt2.gguf"
    write_gpt2_file(path, tiny_gguf)
    with pytest.raises(ValueError) as err:
        Chat.from_path(path)
    message = str(err.value)
    assert "'gpt2'" in message and "llama" in message and "qwen2" in message
    with pytest.raises(GgufError) as err:
        describe(path)  # the core runs no gpt2 file, so the build reads none
    assert "'gpt2'" in str(err.value) and "whisper" in str(err.value) and "bert" in str(err.value)


def test_a_file_the_core_cannot_run_is_its_sentence_and_exit_2(tmp_path, tiny_gguf):
    """No tensors, an architecture that is not a string: `tabtwin inspect` says what the core says."""
    from bad_gguf import STRING, U32, _string, raw_gguf

    cases = {
        "none.gguf": (
            raw_gguf([("general.architecture", STRING, _string("llama"))]),
            "not a usable GGUF file: the file holds no tensors: there are no weights to run",
        ),
        "number.gguf": (
            raw_gguf([("general.architecture", U32, (7).to_bytes(4, "little"))], [("t", [8], 0, 0)], bytes(32)),
            "GGUF metadata key 'general.architecture': expected a string, found U32",
        ),
    }
    for name, (data, says) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        done = inspect(path)
        assert (done.returncode, done.stderr) == (2, f"tabtwin: error: {path}: {says}\n")


@pytest.mark.parametrize("fraction", [0.5, 0.999])
def test_truncated_file_is_reported(tmp_path, tiny_gguf, fraction):
    data = tiny_gguf.read_bytes()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match="truncated"):
        Chat.from_path(path)
    with pytest.raises(GgufError, match="truncated"):
        describe(path)


def test_cut_inside_header_is_reported(tmp_path, tiny_gguf):
    path = tmp_path / "header.gguf"
    path.write_bytes(tiny_gguf.read_bytes()[:600])
    with pytest.raises(ValueError, match="header unreadable|truncated|more than the 576 bytes left"):
        Chat.from_path(path)


def test_not_a_gguf(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="GGUF"):
        Chat.from_path(path)
    result = inspect(path)
    assert result.returncode == 2
    says = "not a usable GGUF file: missing the 'GGUF' magic at the start (5 bytes given)"
    assert result.stderr == f"tabtwin: error: {path}: {says}\n"


@pytest.mark.parametrize(
    ("metadata", "key", "problem"),
    [
        ({"tabtwin.tools": "projects"}, "tabtwin.tools", "expected a JSON list of app names"),
        ({"tabtwin.tools": '{"apps": ["projects"]}'}, "tabtwin.tools", "expected a JSON list of app names"),
        ({"tabtwin.tools": 7}, "tabtwin.tools", "expected a string"),
        ({"tabtwin.refusals": "I don't know."}, "tabtwin.refusals", "expected a JSON list of the twin's refusals"),
        ({"tabtwin.refusals": "[]x"}, "tabtwin.refusals", "expected a JSON list of the twin's refusals"),
        ({"general.name": 7}, "general.name", "expected a string"),
        ({"tabtwin.system_prompt": 1}, "tabtwin.system_prompt", "expected a string"),
    ],
)
def test_a_mistyped_key_is_named_not_read_as_missing(tmp_path, metadata, key, problem):
    """A `tabtwin.tools` that is not a JSON list used to read as "no list", which lets the twin open
    every app: a bad input must never widen a rule, so the file is refused with the key named."""
    from tiny_gguf import write_tiny_llama

    path = write_tiny_llama(tmp_path / "bad.gguf", metadata=metadata)
    with pytest.raises(ValueError) as err:
        Chat.from_path(path)
    assert f"'{key}'" in str(err.value) and problem in str(err.value)


def test_a_valid_tools_list_still_loads(tmp_path):
    from tiny_gguf import write_tiny_llama

    path = write_tiny_llama(tmp_path / "tools.gguf", metadata={"tabtwin.tools": '["books"]'})
    assert Chat.from_path(path).info()["tools"] == '["books"]'


def test_token_types_of_another_length_than_the_tokens_are_refused(tmp_path):
    from tiny_gguf import write_tiny_llama

    path = write_tiny_llama(tmp_path / "types.gguf", token_types=[1] * 10)
    with pytest.raises(ValueError, match=r"'tokenizer.ggml.token_type': 10 entries for \d+ tokens"):
        Chat.from_path(path)


MEMORY_CAP = 4 << 30  # the address space a hostile file gets to play in (issue #18)


def capped():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.mark.parametrize("case", sorted(hostile_files()))
def test_a_hostile_header_is_refused_under_a_memory_cap(tmp_path, case):
    """Each hostile header, through the core natively (tabtwin chat's loader) and in wasmtime (the build
    path's reader, `tabtwin inspect`), in processes limited to 4 GB of address space: a sentence naming
    the problem and exit 2, never a panic, a traceback or an allocation the cap would kill."""
    data, says = hostile_files()[case]
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    core = subprocess.run(
        [sys.executable, "-c", "import sys; from tabtwin._core import Chat; Chat.from_path(sys.argv[1])", str(path)],
        capture_output=True,
        text=True,
        preexec_fn=capped,
        timeout=60,
    )
    assert core.returncode == 1 and "ValueError" in core.stderr and says in core.stderr, core.stderr[-2000:]
    assert "panicked" not in core.stderr
    cli = inspect(path, capped)
    # the same sentence as the loader's, from the same code
    assert cli.returncode == 2 and cli.stderr.startswith(f"tabtwin: error: {path}: "), cli.stderr[-2000:]
    assert says in cli.stderr and cli.stderr.count("\n") == 1, cli.stderr[-2000:]


@pytest.mark.parametrize("case", sorted(hostile_metadata()))
def test_hostile_metadata_is_refused_by_inspect_naming_the_key(tmp_path, tiny_gguf, capsys, case):
    """The build path's reader (`tabtwin inspect`, and so `python build.py`: the core in wasmtime)
    refuses what the core's loaders refuse, naming the key: exit 2, one line, no traceback; a bad
    `tabtwin.tools` never reads as "every app"."""
    from bad_gguf import retyped

    from tabtwin.cli import main

    key, value, vtype, sub_type, core_says = hostile_metadata()[case]
    path = retyped(tiny_gguf, tmp_path / "bad.gguf", key, value, vtype, sub_type)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tabtwin: error: {path}: GGUF metadata key '{key}': ") and err.count("\n") == 1, err
    if core_says is None:
        Chat.from_path(path)  # a key the core does not read (llama.cpp does)
    else:
        with pytest.raises(ValueError, match=re.escape(core_says)):
            Chat.from_path(path)

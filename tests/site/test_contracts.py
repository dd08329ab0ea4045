"""The JSON that crosses languages, held to its schema (site/schema/): models.json, which the build
writes and the page reads (the page is type-checked against types generated from the same schema,
scripts/typecheck), and the grounding index, which the build writes and the core reads. What a real
build writes must validate; a build changed to write what the schema forbids must not; and the core's
reader must accept and refuse the same keys the schema does."""

import base64
import copy
import json

import pytest
from jsonschema import Draft202012Validator

from tabtwin.site import build as site_build
from tabtwin.site import grounding as site_grounding
from tabtwin.site.build import build
from tabtwin.site.registry import GROUNDING_SOURCES

GROUNDING_TABLE = "sources = {sources}\nembedder = false\ntold_only = true\n"


def validator(root, name: str) -> Draft202012Validator:
    schema = json.loads((root / "site/schema" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(validator: Draft202012Validator, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def build_site(root, model, work) -> tuple[dict, bytes]:
    """A site of the repository's content: one [[model]] (sampling set), an index of two sources
    matched by words alone. Returns models.json and the index file."""
    registry = work / "models.toml"
    registry.write_text(
        f'[[model]]\nid = "t"\nlabel = "T"\npath = "{model}"\n[model.sampling]\ntemperature = 0.5\n'
        f"\n[grounding]\n{GROUNDING_TABLE.format(sources=json.dumps(['about', 'projects']))}"
    )
    build(root, work / "_site", registry, log=lambda *_: None)
    listed = json.loads((work / "_site/models.json").read_text())
    return listed, (work / "_site" / listed["grounding"]["file"]).read_bytes()


@pytest.fixture(scope="module")
def built(root, tiny_gguf, tmp_path_factory):
    return build_site(root, tiny_gguf, tmp_path_factory.mktemp("contracts"))


def test_what_the_build_writes_is_what_the_schemas_allow(root, built):
    models_json, index = built
    assert problems(validator(root, "models.schema.json"), models_json) == []
    assert problems(validator(root, "grounding-index.schema.json"), json.loads(index)) == []
    # not vacuous: the build wrote the parts the schemas describe
    assert models_json["models"][0]["sampling"] == {"temperature": 0.5} and models_json["grounding"]["passages"] > 0


def test_the_index_with_its_embedder_is_what_the_schema_allows(root, site_index):
    index = json.loads(site_index)
    assert "embedder" in index and all("vector" in p for p in index["passages"])
    assert problems(validator(root, "grounding-index.schema.json"), index) == []


def test_models_json_with_voice_and_embedder_is_what_the_schema_allows(root, tiny_gguf, embedder_path, tmp_path):
    """The repository's [grounding] (the default embedder, the fitted answerability model) and the
    default Whisper model of hold-to-talk: the entries the fast tier's build has not."""
    text = (root / "models.toml").read_text().split("[grounding]\n", 1)[1]
    table = text.replace('qa = "finetune/', f'qa = "{root}/finetune/').replace(
        'answerability = "finetune/', f'answerability = "{root}/finetune/'
    )
    registry = tmp_path / "models.toml"
    registry.write_text(
        f'[[model]]\nid = "t"\nlabel = "T"\npath = "{tiny_gguf}"\n\n[voice]\nmodel = "default"\n\n[grounding]\n{table}'
    )
    build(root, tmp_path / "_site", registry, log=lambda *_: None)
    models_json = json.loads((tmp_path / "_site/models.json").read_text())
    assert models_json["grounding"]["embedder"]["sha256"] and models_json["voice"]["architecture"] == "whisper"
    assert problems(validator(root, "models.schema.json"), models_json) == []


def _model_with(entry: dict) -> dict:
    return {**entry, "colour": "red"}


def _model_without_label(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "label"}


def _passage_from_a_blog(index: bytes) -> bytes:
    data = json.loads(index)
    data["passages"][0]["source"] = "blog"
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "change, schema, expected",
    [
        (
            _model_with,
            "models.schema.json",
            "models/0: Unevaluated properties are not allowed ('colour' was unexpected)",
        ),
        (_model_without_label, "models.schema.json", "models/0: 'label' is a required property"),
        (
            _passage_from_a_blog,
            "grounding-index.schema.json",
            "passages/0/source: 'blog' is not one of " + repr(list(GROUNDING_SOURCES)),
        ),
    ],
)
def test_a_build_that_writes_what_the_schema_forbids_is_caught(
    root, tiny_gguf, tmp_path, monkeypatch, change, schema, expected
):
    """The check can fail: the build's own writers (stage.py's model entry, grounding.py's index)
    changed to write what the schema forbids, and the build's output is refused, by path."""
    if schema == "models.schema.json":
        stage_model = site_build.stage_model
        monkeypatch.setattr(site_build, "stage_model", lambda *a, **k: change(stage_model(*a, **k)))
    else:
        encode = site_grounding.encode
        monkeypatch.setattr(site_grounding, "encode", lambda *a, **k: change(encode(*a, **k)))
    models_json, index = build_site(root, tiny_gguf, tmp_path)
    written = models_json if schema == "models.schema.json" else json.loads(index)
    found = problems(validator(root, schema), written)
    assert expected in found, found


def test_the_schemas_source_names_are_the_registrys(root):
    schema = json.loads((root / "site/schema/grounding-index.schema.json").read_text())
    assert tuple(schema["$defs"]["Passage"]["properties"]["source"]["enum"]) == GROUNDING_SOURCES


# --- the core's reader (wasm/core/src/grounding/index.rs) against the index's schema ----------------


def full_index(root, index: bytes) -> dict:
    """A built index with every optional part the schema names: an embedder (each passage a vector of
    its dimension), the site's committed answerability model, told_only, nearest, contrast."""
    full = json.loads(index)
    dim = 384
    full["embedder"] = {"name": "all-MiniLM-L6-v2", "sha256": "0" * 64, "dim": dim}
    full["answerability"] = json.loads((root / "finetune/data/ada/answerability.json").read_text())
    full["told_only"] = True
    full["nearest"] = True
    full["contrast"] = True
    for passage in full["passages"]:
        passage["vector"] = base64.b64encode(bytes(2 * dim)).decode()
    return {
        key: full[key]
        for key in ("format", "embedder", "answerability", "told_only", "nearest", "contrast", "passages")
    }


def variants(schema: dict, full: dict):
    """(what changed, index): every property of every object the schema describes dropped, replaced by
    an object in its place, and an unknown key added beside it."""
    objects = [
        ("", schema, lambda index: [index]),
        ("embedder.", schema["properties"]["embedder"], lambda index: [index["embedder"]]),
        ("answerability.", schema["properties"]["answerability"], lambda index: [index["answerability"]]),
        ("passages[].", schema["$defs"]["Passage"], lambda index: index["passages"]),
    ]
    for where, node, targets in objects:
        for key in [*node["properties"], None]:
            for change in ("dropped", "an object") if key else ("unknown key",):
                index = copy.deepcopy(full)
                for target in targets(index):
                    if key is None:
                        target["colour"] = "red"
                    elif change == "dropped":
                        del target[key]
                    else:
                        target[key] = {"x": 1}
                yield f"{where}{key or 'colour'} {change}", index


def core_reads(index: dict) -> bool:
    from tabtwin._core import Grounding

    try:
        Grounding(json.dumps(index).encode())
    except ValueError:
        return False
    return True


def test_the_core_reads_what_the_schema_allows_and_refuses_what_it_forbids(root, built):
    schema_check = validator(root, "grounding-index.schema.json")
    full = full_index(root, built[1])
    assert schema_check.is_valid(full) and core_reads(full)
    verdicts = {
        what: (schema_check.is_valid(index), core_reads(index)) for what, index in variants(schema_check.schema, full)
    }
    disagree = {what: v for what, v in verdicts.items() if v[0] != v[1]}
    assert disagree == {}, "(schema, core) verdicts differ: " + repr(disagree)
    # not vacuous: optional parts dropped are read, required ones and unknown keys refused
    assert verdicts["told_only dropped"] == verdicts["answerability.fitted dropped"] == (True, True)
    assert verdicts["passages[].vector dropped"] == verdicts["embedder.dim dropped"] == (False, False)
    assert verdicts["passages[].colour unknown key"] == verdicts["format an object"] == (False, False)


@pytest.mark.parametrize(
    "what, change",
    [
        ("an empty id", lambda index: index["passages"][0].update(id="")),
        ("a blank text", lambda index: index["passages"][0].update(text=" \n")),
        ("another format", lambda index: index.update(format=2)),
        ("a threshold past 1", lambda index: index["answerability"].update(refuse_below=1.5)),
        ("a scale of 0", lambda index: index["answerability"]["scale"].__setitem__(0, 0)),
    ],
)
def test_the_core_refuses_the_values_the_schema_forbids(root, built, what, change):
    """Where both check a value, they agree. (The core reads any source name and checks an embedder's
    sha256 against its file when it loads it, not here; the schema holds the build to more.)"""
    index = full_index(root, built[1])
    change(index)
    assert not validator(root, "grounding-index.schema.json").is_valid(index), what
    assert not core_reads(index), what

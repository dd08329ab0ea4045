"""Malformed models.toml and site content: one line naming the file, the line and the key, exit 2,
no traceback (issue #18, "files the author feeds in")."""

import shutil

import pytest

from tabtwin.cli import main

GOOD = b'[[model]]\nid = "a"\nlabel = "A"\npypi = "smollm2-135m-instruct"\n'

# (case, file bytes or a kind of path, the line, words the message must hold)
REGISTRY_CASES = [
    ("toml syntax", b'[[model]]\nid = "a"\nlabel = \n', 3, ["not valid TOML"]),
    ("id missing", b'[[model]]\nlabel = "A"\npypi = "smollm2-135m-instruct"\n', 1, ["key 'id'", "required"]),
    ("label missing", b'[[model]]\nid = "a"\npypi = "smollm2-135m-instruct"\n', 1, ["key 'label'", "required"]),
    ("label not a string", GOOD.replace(b'"A"', b"3"), 3, ["key 'label'", "non-empty string (got 3)"]),
    ("label empty", GOOD.replace(b'"A"', b'" "'), 3, ["key 'label'", "non-empty string (got ' ')"]),
    ("default not a bool", GOOD + b'default = "yes"\n', 5, ["key 'default'", "true or false"]),
    ("shard_mb a string", GOOD + b'shard_mb = "2"\n', 5, ["key 'shard_mb'", "integer"]),
    ("sampling not a table", GOOD + b"sampling = 3\n", 5, ["key 'sampling'", "table"]),
    ("typo in a model key", GOOD + b'lable = "B"\n', 5, ["key 'lable'", "did you mean 'label'"]),
    ("typo in sampling", GOOD + b"[model.sampling]\ntemprature = 0.5\n", 6, ["sampling.temprature", "temperature"]),
    ("second model's key", GOOD + GOOD.replace(b'"a"', b'"b"') + b"apps = 1\n", 9, ["model #2", "key 'apps'"]),
    ("model not a table", b'model = ["a"]\n', 1, ["[[model]]"]),
    ("model a string", b'model = "a"\n', 1, ["[[model]]"]),
    ("typo in a top-level table", GOOD + b'[sites]\ntarget = "github-pages"\n', 5, ["'sites'", "did you mean 'site'"]),
    ("site not a table", b"site = 3\n" + GOOD, 1, ["[site]", "table"]),
    ("site key typo", GOOD + b"[site]\nbudgetmb = 10\n", 6, ["'budgetmb'", "did you mean 'budget_mb'"]),
    ("site budget a string", GOOD + b'[site]\nbudget_mb = "10"\n', 6, ["budget_mb", "positive integer"]),
    ("voice key typo", GOOD + b'[voice]\nmodle = "default"\n', 6, ["'modle'", "did you mean 'model'"]),
    ("voice model a number", GOOD + b"[voice]\nmodel = 3\n", 6, ["[voice]", "model"]),
    ("voice enabled a string", GOOD + b'[voice]\nenabled = "no"\n', 6, ["[voice]", "'enabled'", "true or false"]),
    ("grounding key typo", GOOD + b'[grounding]\nsource = ["about"]\n', 6, ["'source'", "did you mean 'sources'"]),
    ("grounding enabled a string", GOOD + b'[grounding]\nenabled = "yes"\n', 6, ["'enabled'", "true or false"]),
    ("grounding sources not strings", GOOD + b"[grounding]\nsources = [1]\n", 6, ["'sources'", "1"]),
    (
        "answerability a number",
        GOOD + b"[grounding]\nanswerability = 1\n",
        6,
        ["'answerability'", "a path or false"],
    ),
    (
        "answerability true",
        GOOD + b"[grounding]\nanswerability = true\n",
        6,
        ["'answerability'", "tabtwin grounding fit"],
    ),
    (
        "answerability missing",
        GOOD + b'[grounding]\nanswerability = "nope.json"\n',
        6,
        ["'answerability'", "does not exist", "tabtwin grounding fit"],
    ),
    (
        "answerability without the embedder",
        GOOD + b'[grounding]\nembedder = false\nanswerability = "models.toml"\n',
        7,
        ["'answerability'", "needs the embedder"],
    ),
    ("told_only a string", GOOD + b'[grounding]\ntold_only = "yes"\n', 6, ["'told_only'", "true or false"]),
    ("nearest a number", GOOD + b"[grounding]\nnearest = 1\n", 6, ["'nearest'", "true or false"]),
    ("contrast a string", GOOD + b'[grounding]\ncontrast = "yes"\n', 6, ["'contrast'", "true or false"]),
    ("not UTF-8", GOOD + b'description = "caf\xe9"\n', 5, ["not UTF-8", "0xe9"]),
    ("no such file", "missing", None, ["no such file"]),
    ("a folder", "folder", None, ["is a folder"]),
]


def _registry(tmp_path, spec) -> str:
    path = tmp_path / "models.toml"
    if spec == "folder":
        path.mkdir()
    elif spec != "missing":
        path.write_bytes(spec)
    return str(path)


def build_is_refused(root, registry, tmp_path, capsys, where: str, words) -> None:
    """`tabtwin build` stops with exit 2 on one line that starts at `where` (file:line:) and holds
    `words`, and writes nothing."""
    argv = ["build", "--root", str(root), "--registry", str(registry), "--out", str(tmp_path / "_site")]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("tabtwin: error: ") and "Traceback" not in err, err
    assert where in err, err
    for word in words:
        assert word in err, err
    assert not (tmp_path / "_site").exists(), "nothing is written for an input that is refused"


@pytest.mark.parametrize("case, spec, line, words", REGISTRY_CASES, ids=[c[0] for c in REGISTRY_CASES])
def test_a_malformed_registry_is_named_with_its_line_and_key(root, tmp_path, capsys, case, spec, line, words):
    path = _registry(tmp_path, spec)
    build_is_refused(root, path, tmp_path, capsys, f"{path}:{line}:" if line else f"{path}:", words)


# --- site content (site/content/): the files the pages and the inline apps are made of ----------------

CONTENT_CASES = [
    ("site.toml syntax", "site.toml", b'title = "x\n', 1, ["not valid TOML"]),
    ("site.toml typo", "site.toml", b'title = "x"\ntagine = "y"\n', 2, ["'tagine'", "did you mean 'tagline'"]),
    ("site.toml title a number", "site.toml", b"title = 3\n", 1, ["'title'", "string"]),
    ("site.toml demo a string", "site.toml", b'demo = "yes"\n', 1, ["'demo'", "true or false"]),
    ("site.toml links not tables", "site.toml", b'links = ["x"]\n', 1, ["'links'"]),
    ("site.toml link lacks url", "site.toml", b'[[links]]\nlabel = "x"\n', 1, ["links", "'url'"]),
    ("site.toml not UTF-8", "site.toml", b'title = "\xff"\n', 1, ["not UTF-8"]),
    ("site.toml a folder", "site.toml", "folder", None, ["is a folder"]),
    ("project lacks name", "projects.toml", b'[[project]]\nid = "p"\ndescription = "d"\n', 1, ["'name'"]),
    (
        "second project lacks id",
        "projects.toml",
        b'[[project]]\nid = "p"\nname = "n"\ndescription = "d"\n\n[[project]]\nname = "m"\ndescription = "d"\n',
        6,
        ["#2", "'id'"],
    ),
    (
        "project key typo",
        "projects.toml",
        b'[[project]]\nid = "p"\nname = "n"\ndescription = "d"\nlanguage = ["Rust"]\n',
        5,
        ["'language'", "did you mean 'languages'"],
    ),
    (
        "project tags a string",
        "projects.toml",
        b'[[project]]\nid = "p"\nname = "n"\ndescription = "d"\ntags = "x"\n',
        5,
        ["'tags'", "list of strings"],
    ),
    (
        "project year a string",
        "projects.toml",
        b'[[project]]\nid = "p"\nname = "n"\ndescription = "d"\nyear = "2020"\n',
        5,
        ["'year'", "integer"],
    ),
    ("project name a number", "projects.toml", b'[[project]]\nid = "p"\nname = 3\ndescription = "d"\n', 3, ["'name'"]),
    ("projects not tables", "projects.toml", b'project = "x"\n', 1, ["[[project]]"]),
    ("projects typo in the table name", "projects.toml", b'[[projects]]\nid = "p"\n', 1, ["did you mean 'project'"]),
    (
        "book year_read a string",
        "books.toml",
        b'[[book]]\ntitle = "t"\nauthor = "a"\nyear_read = "x"\n',
        4,
        ["year_read"],
    ),
    ("book key typo", "books.toml", b'[[book]]\ntitle = "t"\nauthor = "a"\nlines = "x"\n', 4, ["did you mean 'line'"]),
    ("talk lacks date", "talks.toml", b'[[talk]]\ntitle = "t"\nevent = "e"\n', 1, ["'date'"]),
    (
        "talk key typo",
        "talks.toml",
        b'[[talk]]\ntitle = "t"\nevent = "e"\ndate = "2020"\nsumary = "s"\n',
        5,
        ["'sumary'"],
    ),
    ("talks not UTF-8", "talks.toml", b'[[talk]]\ntitle = "t"\nevent = "\xc3("\n', 3, ["not UTF-8"]),
    ("about.md not UTF-8", "about.md", b"# About\n\nna\xefve\n", 3, ["not UTF-8"]),
    ("about.md a folder", "about.md", "folder", None, ["is a folder"]),
    ("musing without front matter", "musings/2020-01-01-x.md", b"# x\n", 1, ["front matter"]),
    (
        "musing front matter syntax",
        "musings/2020-01-01-x.md",
        b'+++\ntitle = "x"\ndate = \n+++\nbody\n',
        3,
        ["front matter"],
    ),
    ("musing without title", "musings/2020-01-01-x.md", b'+++\ndate = "2020-01-01"\n+++\nbody\n', 1, ["'title'"]),
    (
        "musing key typo",
        "musings/2020-01-01-x.md",
        b'+++\ntitle = "x"\ntag = ["a"]\n+++\nbody\n',
        3,
        ["did you mean 'tags'"],
    ),
    ("musing tags a string", "musings/2020-01-01-x.md", b'+++\ntitle = "x"\ntags = "a"\n+++\nbody\n', 3, ["'tags'"]),
    ("musing not UTF-8", "musings/2020-01-01-x.md", b'+++\ntitle = "x"\n+++\n\xff\n', 4, ["not UTF-8"]),
]


@pytest.mark.parametrize("case, name, spec, line, words", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_malformed_site_content_is_named_with_its_line_and_key(root, tmp_path, capsys, case, name, spec, line, words):
    """Each content file broken one way, in a copy of the repository's site/: the build stops before
    writing anything, on one line naming the file, the line and the key."""
    project = tmp_path / "project"
    shutil.copytree(root / "site", project / "site")
    path = project / "site" / "content" / name
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if spec == "folder":
        path.mkdir()
    else:
        path.write_bytes(spec)
    registry = project / "models.toml"
    registry.write_bytes(GOOD)
    build_is_refused(project, registry, tmp_path, capsys, f"{path}:{line}:" if line else f"{path}:", words)

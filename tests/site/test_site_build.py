"""`python build.py`: registry validation, models.json from GGUF headers, shards, pages, incremental, publish."""

import hashlib
import html
import json
import subprocess
import sys

import pytest
from loopback import serving

from tabtwin.errors import TabtwinError
from tabtwin.gguf.read import describe
from tabtwin.site.build import BuildError, build
from tabtwin.site.registry import RegistryError, load


def registry(tmp_path, text):
    path = tmp_path / "models.toml"
    path.write_text(text)
    return path


GOOD = '[[model]]\nid = "a"\nlabel = "A"\npypi = "smollm2-135m-instruct"\n'


@pytest.mark.parametrize(
    "text, line, words",
    [
        (GOOD + 'colour = "red"\n', 5, ["unknown key", "colour"]),
        ('[[model]]\nid = "Bad Id"\nlabel = "A"\npypi = "smollm2-135m-instruct"\n', 2, ["id", "lowercase"]),
        ('[[model]]\nid = "a"\nlabel = "A"\n', 1, ["exactly one source"]),
        ('[[model]]\nid = "a"\nlabel = "A"\npath = "x.gguf"\nurl = "https://h/x.gguf"\n', 5, ["exactly one source"]),
        (GOOD + '[model.sampling]\ntemperature = "hot"\n', 6, ["sampling.temperature", "number"]),
        (GOOD + "[model.sampling]\ntop_p = 3.0\n", 6, ["sampling.top_p", "from 0.0 to 1.0"]),
        (GOOD + "shard_mb = 200\n", 5, ["shard_mb", "100 MB"]),
        (GOOD + 'serve = "remote"\n', 5, ["serve", "url"]),
        ('[[model]]\nid = "a"\nlabel = "A"\npypi = "nope"\n', 4, ["pypi", "unknown default model"]),
        (GOOD + GOOD, 5, ["'a'", "unique"]),
        (
            GOOD.replace('"\n', '"\ndefault = true\n', 1)
            + GOOD.replace('id = "a"', 'id = "b"').replace('"\n', '"\ndefault = true\n', 1),
            6,
            ["default = true", "choose one"],
        ),
        ('[[model]\nid = "a"\n', 1, ["not valid TOML"]),
    ],
)
def test_registry_errors_name_file_line_and_key(tmp_path, text, line, words):
    path = registry(tmp_path, text)
    with pytest.raises(RegistryError) as err:
        load(path)
    message = str(err.value)
    assert f"{path}:{line}:" in message, message
    for word in words:
        assert word in message, message


def test_repository_registry_publishes_the_two_twins_for_github_pages(root):
    """The demo site: the two Ada twins (composed from a stock base + a committed adapter), budgeted
    for GitHub Pages; the stock bases are not published (they would take it to 1.79 GB). The default is
    the small twin, the 0.5B twin is served with one embedding matrix."""
    from tabtwin.site.registry import load_site

    entries = {e.id: e for e in load(root / "models.toml")}
    twins = [e for e in entries.values() if e.base]
    assert len(twins) == len(entries) == 2 and not any(e.pypi for e in entries.values())
    assert load_site(root / "models.toml") == {"target": "github-pages"}
    assert [e.id for e in twins if e.tie_embeddings] == [next(t.id for t in twins if "qwen" in t.base)]
    assert sorted(e.base for e in twins) == ["qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct"]
    for twin in twins:
        record = json.loads((twin.adapter / "tabtwin.json").read_text())
        assert record["metadata"]["tabtwin.persona"] == "Ada Okonkwo-Lindqvist"
        assert (twin.adapter / "train_report.json").is_file() and (twin.adapter / "loss_curve.png").is_file()
    assert [e.id for e in entries.values() if e.default] == [next(t.id for t in twins if "smollm2" in t.base)]


def test_whether_a_model_opens_apps_is_read_from_its_file(root, tmp_path):
    """The picker's "opens apps" is the core's reading of the twin's tabtwin.tools, never typed in
    models.toml (a key for it is refused, naming where it comes from)."""
    from tiny_gguf import write_tiny_llama

    twin = write_tiny_llama(tmp_path / "twin.gguf", metadata={"tabtwin.tools": '["books"]'})
    base = write_tiny_llama(tmp_path / "base.gguf")
    table = (
        f'[[model]]\nid = "twin"\nlabel = "T"\npath = "{twin}"\n[[model]]\nid = "base"\nlabel = "B"\npath = "{base}"\n'
    )
    site = tmp_path / "_site"
    build(root, site, registry(tmp_path, table), log=lambda *_: None)
    listed = {m["id"]: m["apps"] for m in json.loads((site / "models.json").read_text())["models"]}
    assert listed == {"twin": True, "base": False}
    with pytest.raises(RegistryError, match=r"key 'apps': not typed here: .*tabtwin.tools"):
        load(registry(tmp_path, table + "apps = true\n"))


@pytest.fixture(scope="module")
def demo_site(root, sharded_model, tmp_path_factory):
    work = tmp_path_factory.mktemp("build")
    reg = work / "models.toml"
    reg.write_text(
        f'[[model]]\nid = "small"\nlabel = "Small"\npath = "{sharded_model}"\nshard_mb = 1\n'
        "[model.sampling]\nmax_tokens = 99\n"
    )
    summary = build(root, work / "_site", reg, log=lambda *_: None)
    return work, reg, summary


def test_registry_json_is_read_from_the_gguf_header(demo_site, sharded_model):
    work, _, _ = demo_site
    entry = json.loads((work / "_site/models.json").read_text())["models"][0]
    header = describe(sharded_model)
    assert entry["architecture"] == header["architecture"] == "llama"
    assert entry["parameters"] == header["parameters"]
    assert entry["context_length"] == header["context_length"]
    assert entry["vocab_size"] == header["vocab_size"]
    assert entry["bytes"] == sharded_model.stat().st_size
    assert entry["sampling"] == {"max_tokens": 99}


def test_shards_are_small_and_reassemble_to_the_original(demo_site, sharded_model):
    work, _, _ = demo_site
    entry = json.loads((work / "_site/models.json").read_text())["models"][0]
    assert len(entry["shards"]) == -(-sharded_model.stat().st_size // 1_000_000)
    whole = hashlib.sha256()
    for shard in entry["shards"]:
        data = (work / "_site" / shard["url"]).read_bytes()
        assert len(data) == shard["bytes"] <= 1_000_000
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        whole.update(data)
    assert whole.hexdigest() == entry["sha256"] == hashlib.sha256(sharded_model.read_bytes()).hexdigest()


def test_pages_apps_and_service_worker(demo_site, root):
    work, _, summary = demo_site
    site = work / "_site"
    for page in (
        "index.html",
        "about/index.html",
        "projects/index.html",
        "books/index.html",
        "talks/index.html",
        "musings/index.html",
        "chat/index.html",
        "404.html",
        "sw.js",
    ):
        assert (site / page).is_file(), page
    projects = json.loads((site / "data/apps/projects.json").read_text())
    assert len(projects) > 0 and all("name" in p for p in projects)
    chat = html.unescape((site / "chat/index.html").read_text())
    assert "Content-Security-Policy" in chat and "connect-src 'self';" in chat
    wasm = [p.name for p in (site / "static/wasm").iterdir()]
    assert any(n.startswith("tabtwin_web_bg.") and n.endswith(".wasm") and len(n.split(".")) == 3 for n in wasm)
    assert "sw.js" not in json.loads((site / "sw.js").read_text().split("const SHELL = ")[1].split(";\n")[0])
    assert "pages written" in summary.table() and "small" in summary.table()


def test_second_build_does_no_model_work(demo_site, root):
    work, reg, first = demo_site
    assert first.model_work == ["small"]
    again = build(root, work / "_site", reg, log=lambda *_: None)
    assert again.model_work == []


def test_unsupported_architecture_fails_the_build(root, tmp_path, tiny_gguf):
    from bad_gguf import write_gpt2_file

    model = tmp_path / "gpt2.gguf"
    write_gpt2_file(model, tiny_gguf)
    reg = registry(tmp_path, f'[[model]]\nid = "g"\nlabel = "G"\npath = "{model}"\n')
    with pytest.raises(TabtwinError) as err:  # the core's sentence (it reads the header), naming the file
        build(root, tmp_path / "_site", reg, log=lambda *_: None)
    assert str(err.value).startswith(f"{model}: unsupported model architecture 'gpt2'")


def test_remote_url_model_is_left_remote_and_allowed_by_csp(root, tmp_path, tiny_gguf, monkeypatch):
    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))  # loopback URLs change every run
    with serving(tiny_gguf.parent) as host:
        reg = registry(
            tmp_path, f'[[model]]\nid = "r"\nlabel = "R"\nurl = "{host}/{tiny_gguf.name}"\nserve = "remote"\n'
        )
        build(root, tmp_path / "_site", reg, log=lambda *_: None)
    entry = json.loads((tmp_path / "_site/models.json").read_text())["models"][0]
    assert entry["shards"][0]["url"] == f"{host}/{tiny_gguf.name}"
    assert not (tmp_path / "_site/models/r").exists()
    assert f"connect-src 'self' {host}" in html.unescape((tmp_path / "_site/chat/index.html").read_text())


def test_publish_pushes_to_a_gh_pages_branch(demo_site, tmp_path, root):
    work, _, _ = demo_site
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    from tabtwin.site.publish import publish

    assert publish(work / "_site", root, str(bare), "gh-pages") == 0
    files = subprocess.run(
        ["git", "--git-dir", str(bare), "ls-tree", "-r", "--name-only", "gh-pages"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"index.html", "models.json", ".nojekyll", "chat/index.html"} <= set(files)


def test_publish_without_remote_says_what_to_do(tmp_path, demo_site, capsys):
    work, _, _ = demo_site
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    from tabtwin.site.publish import publish

    assert publish(work / "_site", repo, None) == 0
    assert "no git remote 'origin'" in capsys.readouterr().out


def test_build_py_reports_registry_errors_on_one_line_and_exits_2(root, tmp_path):
    reg = registry(tmp_path, GOOD + 'colour = "red"\n')
    result = subprocess.run(
        [sys.executable, str(root / "build.py"), "--registry", str(reg), "--out", str(tmp_path / "_site")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tabtwin: error: ")
    assert f"{reg}:5:" in result.stderr and "Traceback" not in result.stderr


def test_a_model_hub_url_brings_its_download_hosts_into_the_csp():
    """The hub redirects `resolve` URLs to its CDN and the CSP is checked on every hop."""
    from tabtwin.site.registry import ModelEntry
    from tabtwin.site.render import content_security_policy, remote_origins

    hub = ModelEntry(id="t", label="T", url="https://huggingface.co/o/r/resolve/abc/t.gguf", serve="remote")
    own = ModelEntry(
        id="u", label="U", url="https://models.example.org/u.gguf", serve="remote", hosts=["https://cdn.example.org"]
    )
    copied = ModelEntry(id="v", label="V", url="https://elsewhere.example.org/v.gguf")  # served from the site
    connect = content_security_policy(remote_origins([hub, own, copied])).split("connect-src ")[1].split(";")[0]
    assert connect.split()[0] == "'self'"
    for host in ("https://huggingface.co", "https://*.hf.co", "https://models.example.org", "https://cdn.example.org"):
        assert host in connect.split(), connect
    assert "elsewhere.example.org" not in connect


@pytest.mark.parametrize(
    "extra, words",
    [
        ('hosts = ["https://cdn.example.org/path"]', ["key 'hosts'", "no path"]),
        ('sha256 = "abc"', ["key 'sha256'", "64 lowercase hex"]),
        ("tie_embeddings = true", ["key 'tie_embeddings'", "base + adapter"]),
    ],
)
def test_remote_pins_and_ties_are_checked(tmp_path, extra, words):
    text = f'[[model]]\nid = "a"\nlabel = "A"\nurl = "https://x.example.org/a.gguf"\nserve = "remote"\n{extra}\n'
    with pytest.raises(RegistryError) as err:
        load(registry(tmp_path, text))
    assert all(w in str(err.value) for w in words), str(err.value)


def test_a_url_model_whose_bytes_changed_fails_the_pinned_sha256(root, tmp_path, tiny_gguf, monkeypatch):
    monkeypatch.setenv("TABTWIN_CACHE", str(tmp_path / "cache"))
    with serving(tiny_gguf.parent) as host:
        url = f"{host}/{tiny_gguf.name}"
        reg = registry(tmp_path, f'[[model]]\nid = "p"\nlabel = "P"\nurl = "{url}"\nsha256 = "{"0" * 64}"\n')
        with pytest.raises(BuildError, match="not the pinned 0000000000000000"):
            build(root, tmp_path / "_site", reg, log=lambda *_: None)

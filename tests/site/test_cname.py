"""A custom domain survives a rebuild: `[site] cname` in models.toml is written to `_site/CNAME` (what
GitHub Pages reads) by every build, which replaces `_site/` whole; without the key there is no CNAME;
a value that is not a bare hostname is refused with the file, the line and the key."""

from __future__ import annotations

import pytest

from tabtwin.cli import main
from tabtwin.site.build import build
from tabtwin.site.registry import RegistryError, load_site

quiet = lambda *_: None  # noqa: E731


def registry(folder, model, site: str = ""):
    path = folder / "models.toml"
    path.write_text(f'{site}[[model]]\nid = "small"\nlabel = "Small"\npath = "{model}"\n')
    return path


def test_cname_is_written_by_every_build_and_removed_with_the_key(root, tiny_gguf, tmp_path):
    out = tmp_path / "_site"
    reg = registry(tmp_path, tiny_gguf, '[site]\ncname = "twin.example.org"\n')
    build(root, out, reg, log=quiet)
    assert (out / "CNAME").read_text() == "twin.example.org\n"
    (out / "CNAME").write_text("stale.example.org\n")  # a hand edit the next build must not keep
    build(root, out, reg, log=quiet, target="unlimited")  # --target replaces the budget, not the domain
    assert (out / "CNAME").read_text() == "twin.example.org\n"

    registry(tmp_path, tiny_gguf)
    build(root, out, reg, log=quiet)
    assert not (out / "CNAME").exists()


@pytest.mark.parametrize(
    "value",
    [
        "https://twin.example.org",
        "twin.example.org/chat/",
        "twin.example.org:8080",
        "twin.example.org.",
        "localhost",
        "192.168.0.1",
        "twin_example.org",
        "-twin.example.org",
        "",
    ],
)
def test_a_cname_that_is_not_a_hostname_is_refused_with_file_line_and_key(tiny_gguf, tmp_path, value):
    reg = registry(tmp_path, tiny_gguf, f'[site]\ntarget = "github-pages"\ncname = "{value}"\n')
    with pytest.raises(RegistryError) as err:
        load_site(reg)
    message = str(err.value)
    assert message.startswith(f"{reg}:3: [site] cname must be a bare hostname"), message
    assert repr(value) in message


def test_a_cname_that_is_not_a_string_stops_the_build_in_one_line(root, tiny_gguf, tmp_path, capsys):
    reg = registry(tmp_path, tiny_gguf, "[site]\ncname = 42\n")
    assert main(["build", "--root", str(root), "--registry", str(reg), "--out", str(tmp_path / "_site")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tabtwin: error: {reg}:2: [site] cname must be a string") and "Traceback" not in err
    assert not (tmp_path / "_site").exists()

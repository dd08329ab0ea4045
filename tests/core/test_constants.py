"""One table per rule: the constants table in Rust (wasm/core/src/keys.rs) and Python (tabtwin.keys)
hold the same names and values, the page's constants.js is generated from it, and the architectures
the build accepts are the ones the core's arch.rs knows."""

import json
import re

from tabtwin import keys
from tabtwin.gguf.read import SUPPORTED_ARCHITECTURES
from tabtwin.site.render import constants_js


def rust_table(text: str) -> dict:
    table = {}
    for name, kind, value in re.findall(r"pub const (\w+): ([^=]+?) = (.+?);", text, re.S):
        kind = kind.strip()
        if kind == "&str":
            table[name] = json.loads(value)
        elif kind == "&[&str]":
            table[name] = tuple(json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', value))
        elif kind in ("u32", "usize", "i32"):
            table[name] = int(value.replace("_", ""))
        elif kind in ("f32", "f64"):
            table[name] = float(value)
    return table


def python_table() -> dict:
    return {
        name: value
        for name, value in vars(keys).items()
        if name.isupper() and isinstance(value, (str, tuple, int, float)) and not isinstance(value, bool)
    }


def test_the_constants_table_is_the_same_in_rust_and_python(root):
    rust = rust_table((root / "wasm/core/src/keys.rs").read_text())
    python = python_table()
    assert {k: rust.get(k) for k in python} == python
    assert set(rust) - {"ALL"} == set(python)


def test_the_page_constants_are_generated_from_the_table():
    js = constants_js()
    for name, value in keys.PAGE.items():
        assert f"export const {name} = {json.dumps(value)};" in js
    assert js.count("export const") == len(keys.PAGE)


def test_the_page_types_no_copy_of_the_app_list(root):
    """apps.js renders each app; no other module lists the apps (they import APPS from constants.js)."""
    for path in (root / "site/static/js").glob("*.js"):
        if path.name == "apps.js":
            continue
        text = path.read_text()
        pattern = r"""app:\s*["']{app}["']|\[\s*["']{app}["']"""
        copies = [a for a in keys.APPS if re.search(pattern.format(app=a), text)]
        assert copies == [], f"{path.name} types the app list: {copies}"


def test_supported_architectures_match_rust(root):
    text = (root / "wasm/core/src/arch.rs").read_text()
    listed = re.search(r"SUPPORTED: &\[&str\] = &\[([^\]]*)\]", text).group(1)
    assert tuple(re.findall(r'"([^"]+)"', listed)) == SUPPORTED_ARCHITECTURES

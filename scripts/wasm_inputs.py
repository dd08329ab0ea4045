"""Hash of everything that determines the browser wasm, recorded beside it.

`--write FILE` records the hash, the toolchain and the output hashes;
`--check FILE` exits 1 when the sources changed since FILE was written (the
committed wasm is stale: run scripts/build-wasm.sh and commit the result).
"""

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [
    "wasm/Cargo.toml",
    "wasm/Cargo.lock",
    "wasm/.cargo/config.toml",
    "wasm/core",
    "wasm/web",
    "scripts/build-wasm.sh",
]


def input_files():
    for name in INPUTS:
        path = ROOT / name
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "target" not in p.parts)
        else:
            yield path


def inputs_sha256():
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def tool_version(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path)
    group.add_argument("--check", type=Path)
    args = parser.parse_args()
    if args.write:
        out = args.write.parent
        info = {
            "inputs_sha256": inputs_sha256(),
            "rustc": tool_version("/usr/bin/rustc", "--version"),
            "wasm_bindgen": tool_version("wasm-bindgen", "--version"),
            "wasm_opt": tool_version("wasm-opt", "--version"),
            "outputs": {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(out.iterdir())
                if p.suffix in (".wasm", ".js")
            },
        }
        args.write.write_text(json.dumps(info, indent=2) + "\n")
        return 0
    recorded = json.loads(args.check.read_text())
    current = inputs_sha256()
    if recorded["inputs_sha256"] != current:
        print(
            f"stale wasm: {args.check} records inputs {recorded['inputs_sha256'][:12]}, sources hash to "
            f"{current[:12]}; run scripts/build-wasm.sh and commit site/static/wasm",
            file=sys.stderr,
        )
        return 1
    for name, sha in recorded["outputs"].items():
        actual = hashlib.sha256((args.check.parent / name).read_bytes()).hexdigest()
        if actual != sha:
            print(
                f"{args.check.parent / name} was edited after the build (sha256 {actual[:12]} != {sha[:12]})",
                file=sys.stderr,
            )
            return 1
    print(f"wasm inputs match ({current[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

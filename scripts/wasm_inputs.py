"""Hash of everything that determines a committed wasm, recorded beside it.

Two artifacts: `web`, the browser core (wasm/web, site/static/wasm, scripts/build-wasm.sh), and
`host`, the core the site build runs with wasmtime (wasm/host, python/tabtwin/host,
scripts/build-host-wasm.sh). Each hashes only the crates it builds from, so a change to one
binding does not make the other stale; a change to the core makes both stale.

`--write FILE` records the hash, the toolchain and the output hashes;
`--check FILE` exits 1 when the sources changed since FILE was written (the
committed wasm is stale: run the artifact's build script and commit the result).
"""

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ["wasm/Cargo.toml", "wasm/Cargo.lock", "wasm/.cargo/config.toml", "wasm/core", "scripts/wasm-build-env.sh"]
# artifact -> (its inputs besides the shared ones, the script that builds it, what to commit)
ARTIFACTS = {
    "web": (["wasm/web", "scripts/build-wasm.sh"], "scripts/build-wasm.sh", "site/static/wasm"),
    "host": (["wasm/host", "scripts/build-host-wasm.sh"], "scripts/build-host-wasm.sh", "python/tabtwin/host"),
}


def input_files(artifact="web"):
    for name in SHARED + ARTIFACTS[artifact][0]:
        path = ROOT / name
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "target" not in p.parts)
        else:
            yield path


def inputs_sha256(artifact="web"):
    digest = hashlib.sha256()
    for path in input_files(artifact):
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
    parser.add_argument("--artifact", choices=sorted(ARTIFACTS), default="web", help="with --write (default web)")
    args = parser.parse_args()
    if args.write:
        out = args.write.parent
        info = {
            **({} if args.artifact == "web" else {"artifact": args.artifact}),
            "inputs_sha256": inputs_sha256(args.artifact),
            "rustc": tool_version("/usr/bin/rustc", "--version"),
            **({"wasm_bindgen": tool_version("wasm-bindgen", "--version")} if args.artifact == "web" else {}),
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
    artifact = recorded.get("artifact", "web")
    current = inputs_sha256(artifact)
    if recorded["inputs_sha256"] != current:
        _, script, commit = ARTIFACTS[artifact]
        print(
            f"stale wasm: {args.check} records inputs {recorded['inputs_sha256'][:12]}, sources hash to "
            f"{current[:12]}; run {script} and commit {commit}",
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

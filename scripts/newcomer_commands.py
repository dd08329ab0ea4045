"""Print, as a shell script, the commands a newcomer runs: the `run:` lines of a GitHub workflow, or
the README's first command (the first line of the first ```bash block under "## Two commands")."""

from __future__ import annotations

import re
import sys
from pathlib import Path


def workflow_runs(path: Path) -> list[str]:
    import yaml

    workflow = yaml.safe_load(path.read_text())
    runs = [step["run"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "run" in step]
    if not runs:
        sys.exit(f"{path}: no run: steps found")
    return runs


def readme_first_command(path: Path) -> str:
    text = path.read_text()
    section = text.split("## Two commands", 1)
    if len(section) != 2:
        sys.exit(f"{path}: no '## Two commands' section")
    block = re.search(r"```bash\n(.*?)```", section[1], re.S)
    if not block:
        sys.exit(f"{path}: no ```bash block under '## Two commands'")
    commands = [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return commands[0]


if __name__ == "__main__":
    kind, file = sys.argv[1], Path(sys.argv[2])
    lines = workflow_runs(file) if kind == "workflow" else [readme_first_command(file)]
    print("\n".join(lines))

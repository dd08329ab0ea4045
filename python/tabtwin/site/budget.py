"""What the host takes: the published size of a built site against a static host's limits.

GitHub Pages refuses a published site over 1 GB and any file of 100 MB or more (its docs:
"Published GitHub Pages sites may be no larger than 1 GB"; pushes with files over 100 MiB are
blocked). We count in decimal megabytes, which errs on the safe side of either reading. A build
warns above 80% of the budget and fails above it, naming the largest models and the ways out.
An author who publishes elsewhere picks another host (`--target`, or `[site] target` in
models.toml) or sets the numbers (`[site] budget_mb`, `file_mb`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tabtwin.errors import TabtwinError

MB = 1_000_000
WARN_FRACTION = 0.8


@dataclass(frozen=True)
class Host:
    name: str
    label: str
    site_bytes: int | None  # None: the host sets no total
    file_bytes: int | None  # a file must be strictly smaller than this

    def shard_bytes(self) -> int:
        """Model parts comfortably below the per-file limit (95 MB on GitHub Pages)."""
        return 95 * MB if self.file_bytes is None else min(95 * MB, int(self.file_bytes * 0.95))


HOSTS = {
    "github-pages": Host("github-pages", "GitHub Pages", 1000 * MB, 100 * MB),
    # Cloudflare Pages: 25 MiB per file, no total published size limit (20,000 files).
    "cloudflare-pages": Host("cloudflare-pages", "Cloudflare Pages", None, 25 * 1024 * 1024),
    "unlimited": Host("unlimited", "a host without size limits", None, None),
}
DEFAULT_HOST = "github-pages"


def host_from(target: str | None, site_table: dict, where: str) -> Host:
    """The host to budget for: `--target` wins over the whole `[site]` table; otherwise `[site] target`
    (default github-pages) with its numbers overridden by `[site] budget_mb` / `file_mb`."""
    if target is not None:
        site_table = {"target": target}
    name = site_table.get("target", DEFAULT_HOST)
    if name not in HOSTS:
        raise TabtwinError(f"{where}: unknown target {name!r}; known: {', '.join(HOSTS)}")
    host = HOSTS[name]
    site_bytes = site_table["budget_mb"] * MB if "budget_mb" in site_table else host.site_bytes
    file_bytes = site_table["file_mb"] * MB if "file_mb" in site_table else host.file_bytes
    if (site_bytes, file_bytes) != (host.site_bytes, host.file_bytes):
        host = Host(host.name, f"{host.label} (budget from [site])", site_bytes, file_bytes)
    return host


@dataclass
class Budget:
    host: Host
    total: int
    largest_file: tuple[str, int]
    models: list[tuple[str, int]]  # (model id, bytes published on this site), largest first

    @property
    def fraction(self) -> float | None:
        return None if self.host.site_bytes is None else self.total / self.host.site_bytes

    def over_files(self, files: dict[str, int]) -> list[tuple[str, int]]:
        limit = self.host.file_bytes
        return [] if limit is None else [(n, b) for n, b in files.items() if b >= limit]

    def line(self) -> str:
        if self.host.site_bytes is None:
            return f"published size: {self.total / MB:.1f} MB ({self.host.label}: no total limit)"
        return (
            f"published size: {self.total / MB:.1f} MB of {self.host.label}'s {self.host.site_bytes / MB:.0f} MB "
            f"budget ({self.fraction:.0%}); largest file {self.largest_file[1] / MB:.1f} MB"
        )

    def ways_out(self) -> str:
        top = ", ".join(f"{m} ({b / MB:.0f} MB)" for m, b in self.models[:3]) or "none"
        return (
            f"largest models: {top}. Ways out: serve a model from a model host (`tabtwin publish-model "
            'CONFIG --hf OWNER/REPO` prints its models.toml entry with serve = "remote"), drop it from '
            'models.toml, or store it smaller (a twin\'s `quantization = "q4_0"`). Publishing elsewhere? '
            "Pass --target or set [site] target / budget_mb in models.toml."
        )


def published_files(out_dir: Path) -> dict[str, int]:
    """Every file the host will publish (our build record, a dot-file, is not uploaded)."""
    return {
        p.relative_to(out_dir).as_posix(): p.stat().st_size
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def measure(out_dir: Path, host: Host) -> tuple[Budget, dict[str, int]]:
    files = published_files(out_dir)
    per_model: dict[str, int] = {}
    for name, size in files.items():
        parts = name.split("/")
        if parts[0] == "models" and len(parts) > 2:
            per_model[parts[1]] = per_model.get(parts[1], 0) + size
    largest = max(files.items(), key=lambda kv: kv[1], default=("", 0))
    models = sorted(per_model.items(), key=lambda kv: -kv[1])
    return Budget(host, sum(files.values()), largest, models), files


def check(out_dir: Path, host: Host) -> tuple[Budget, list[str]]:
    """The budget of a built site and its warnings; raises TabtwinError when the host would refuse it."""
    budget, files = measure(out_dir, host)
    too_big = budget.over_files(files)
    if too_big:
        names = ", ".join(f"{n} ({b / MB:.1f} MB)" for n, b in too_big[:5])
        raise TabtwinError(
            f"{len(too_big)} file(s) at or over {host.label}'s {host.file_bytes / MB:.0f} MB "
            f"per-file limit: {names}; lower the model's shard_mb"
        )
    fraction = budget.fraction
    if fraction is not None and fraction > 1:
        raise TabtwinError(
            f"the site is {budget.total / MB:.1f} MB, over {host.label}'s "
            f"{host.site_bytes / MB:.0f} MB limit ({fraction:.0%}); {budget.ways_out()}"
        )
    warnings = []
    if fraction is not None and fraction > WARN_FRACTION:
        warnings.append(
            f"the site is {budget.total / MB:.1f} MB, {fraction:.0%} of {host.label}'s "
            f"{host.site_bytes / MB:.0f} MB limit (warning above {WARN_FRACTION:.0%}); "
            f"{budget.ways_out()}"
        )
    return budget, warnings

"""Debian's Chromium and the flags seen working here (tabtwin.bench.chromium.FLAGS): one list, the benchmark's."""

from tabtwin.bench.chromium import CHROMIUM, FLAGS  # noqa: F401 (CHROMIUM is re-exported to the tests)

CHROMIUM_FLAGS = ["--headless=new", *FLAGS]


def corrupt_registry(page, cache_key: str) -> None:
    """Serve models.json with every model's sha256 wrong (and its own cache key), so a download fails
    its integrity check."""
    import json

    def route(route):
        response = route.fetch()
        registry = response.json()
        for model in registry["models"]:
            model["sha256"] = "0" * 64
            model["cache_key"] = f"/__tabtwin_models__/{cache_key}.gguf"
        route.fulfill(response=response, body=json.dumps(registry))

    page.route("**/models.json", route)

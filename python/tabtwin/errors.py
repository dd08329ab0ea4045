"""The one base class of every error tabtwin reports to a person.

A `TabtwinError` carries a message that already names what is wrong (file, line, key) and
what to do; the CLI and `build.py` print it on one line (`tabtwin: error: ...`, exit code 2).
Anything else that escapes is a bug, and keeps its traceback.
"""


class TabtwinError(Exception):
    """A problem with the user's input or environment, explained in the message."""

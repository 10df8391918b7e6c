"""What the ``vtrack`` commands tell the user: result summaries on stdout, error lines on stderr.

Diagnostics (warnings, progress details) go through :mod:`logging` instead; the
command line configures it in :func:`tracker.app.cli.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_SOURCES_FAILED", "error", "summary"]

#: Exit status of a run over many sources in which some sources failed (the manifest says which and why).
EXIT_SOURCES_FAILED = 1
#: Exit status for bad input or an unusable setup (the same as argparse's usage errors).
EXIT_ERROR = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def error(command: str, message: str) -> None:
    """Write ``"<command>: error: <message>"`` as one line to stderr.

    Args:
        command: the command as typed, e.g. ``"vtrack track"``.
        message: what went wrong, naming the file, field or frame; newlines are
            replaced by spaces so that the report stays one line.
    """
    text = " ".join(message.split("\n"))
    sys.stderr.write(f"{command}: error: {text}\n")


def summary(lines: Iterable[str]) -> None:
    """Write a command's closing summary to stdout, one line per item."""
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()

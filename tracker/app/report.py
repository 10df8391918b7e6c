"""What the ``vtrack`` commands tell the user: result summaries on stdout, error lines on stderr.

Diagnostics (warnings, progress details) go through :mod:`logging` instead; the
command line configures it in :func:`tracker.app.cli.main`.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_SOURCES_FAILED",
    "EXIT_TERMINATED",
    "error",
    "summary",
    "terminate_like_ctrl_c",
]

#: Exit status of a run over many sources in which some sources failed (the manifest says which and why).
EXIT_SOURCES_FAILED = 1
#: Exit status for bad input or an unusable setup (the same as argparse's usage errors).
EXIT_ERROR = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status after SIGTERM (128 + SIGTERM): ``docker stop``, systemd, job schedulers.
EXIT_TERMINATED = 143


@contextmanager
def terminate_like_ctrl_c() -> Iterator[threading.Event]:
    """While inside, SIGTERM stops the command as Ctrl-C does: a KeyboardInterrupt in the main thread.

    So what a run has written is kept and closed properly (a playable video, every
    result line), as after Ctrl-C. Yields an event that is set once SIGTERM arrived, for
    the exit status (:data:`EXIT_TERMINATED`). Outside the main thread (where Python
    cannot install handlers) it changes nothing.
    """
    terminated = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield terminated
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        terminated.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)


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

"""The ``vtrack`` command: a thin dispatcher over subcommands.

Subcommands are listed in :data:`SUBCOMMANDS` as ``(name, module path, help)``. Each
module provides ``add_arguments(parser: argparse.ArgumentParser) -> None`` and
``run(args: argparse.Namespace) -> int`` (the exit status). Only the module of the
subcommand being run is imported, so ``vtrack --help`` lists every subcommand
without loading OpenCV, Ultralytics or a subcommand whose optional dependencies
are missing; such a subcommand fails with one error line when run.

To add a subcommand, add a row to :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple

from tracker.app import report

__all__ = ["SUBCOMMANDS", "Subcommand", "build_parser", "main"]

_PROG = "vtrack"
_DISTRIBUTION = "vtrack"
_LOG_FORMAT = "%(levelname)s: %(name)s: %(message)s"


class Subcommand(NamedTuple):
    """A ``vtrack`` subcommand: its name, the module implementing it, and a one-line help."""

    name: str
    module: str
    help: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "track",
        "tracker.app.fleet",
        "detect and track vehicles in a video, a folder of frames or a camera (or many videos, in parallel "
        "or on a Ray cluster); write an annotated video, MOTChallenge rows and JSON lines",
    ),
    Subcommand("bench", "benchmarks.cli", "score tracker backends on KITTI / MOT17 sequences with TrackEval"),
    Subcommand("train-motion", "benchmarks.motion.train", "train the LSTM motion model on ground-truth trajectories"),
    Subcommand(
        "tune",
        "benchmarks.tune",
        "grid-search a backend's settings on one benchmark or a suite (worst margin over the best peer), "
        "cross-validated",
    ),
)


def _version() -> str:
    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        return "(not installed)"


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv``: its first non-option argument (no top-level option takes a value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``vtrack`` parser; the subcommand named in ``argv`` (if any) gets its full options.

    Args:
        argv: the command-line arguments (without the program name).

    Raises:
        ImportError: the chosen subcommand's module (or a dependency of it) cannot be imported.
    """
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="vtrack: multi-object vehicle tracking. YOLO detections in, stable track IDs out.",
        epilog=f"Run '{_PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more: -v for progress details (INFO), -vv for debugging (DEBUG); default: warnings only",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)
    chosen = _chosen(argv)
    for command in SUBCOMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        if command.name == chosen:
            module = importlib.import_module(command.module)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - logging.DEBUG * min(verbosity, 2)
    logging.basicConfig(level=level, format=_LOG_FORMAT, stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vtrack`` console script.

    Args:
        argv: arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns:
        The subcommand's exit status (0 on success, 2 for bad input, 130 after Ctrl-C,
        143 after SIGTERM, which stops a command as Ctrl-C does). ``--help``, ``--version``
        and usage errors exit through ``SystemExit`` as argparse does.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
    except ImportError as error:
        report.error(f"{_PROG} {_chosen(argv)}", f"this command is not available in this installation: {error}")
        return report.EXIT_ERROR
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    with report.terminate_like_ctrl_c() as terminated:
        status: int = args.run(args)
    if terminated.is_set() and status == report.EXIT_INTERRUPTED:
        status = report.EXIT_TERMINATED
    return status

"""``vtrack bench``: compare tracker backends on a benchmark (KITTI tracking, MOTChallenge, BDD100K MOT) with TrackEval.

Examples (from the repository root)::

    vtrack bench --benchmark configs/bench_kitti.yaml --trackers sort,rf-bytetrack --out runs/bench/kitti
    python -m benchmarks.cli --benchmark configs/bench_mot17.yaml --trackers sort --out runs/bench/mot17 --resume

``vtrack bench`` hands its arguments to :func:`add_arguments` and :func:`run`;
``python -m benchmarks.cli`` runs :func:`main`. Exit status: 0 on success, 1 when the
run completed but a backend raised on a sequence (:data:`EXIT_FAILED_PAIRS`: the pair is
named on stdout and in ``summary.md``; the other pairs are scored; ``--resume`` retries
it), 2 when the benchmark cannot run (bad config or data, output folder not empty, a
missing peer library, TrackEval rejecting results), 130 after Ctrl-C (rerun with
``--resume`` to continue); the error is one line on stderr (:func:`tracker.app.report.error`).

Single-threaded timing: importing this module sets ``OMP_NUM_THREADS``,
``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` (and the other BLAS variables) to 1,
which takes effect when NumPy is imported afterwards (``python -m benchmarks.cli``);
when NumPy was already loaded (``vtrack bench``), the harness limits the loaded pools
to one thread with ``threadpoolctl`` instead (see :mod:`benchmarks.runner`).
"""

import os

#: Thread-count variables of the BLAS/OpenMP runtimes NumPy, SciPy and torch may load.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
for _variable in THREAD_VARIABLES:
    os.environ[_variable] = "1"

import argparse  # noqa: E402  (the thread variables must be set before anything imports NumPy)
import logging  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

__all__ = ["EXIT_FAILED_PAIRS", "add_arguments", "main", "run"]

_COMMAND = "vtrack bench"
#: Exit status of a run that completed but in which a backend raised on a sequence.
EXIT_FAILED_PAIRS = 1


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return names


def _positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``vtrack bench`` to ``parser``; the backends listed come from the registry and PEERS."""
    import tracker
    from benchmarks.peers import PEERS
    from tracker.app.parallel import LOCAL_RAY

    own = [name for name in tracker.available() if name not in PEERS]
    parser.add_argument("--benchmark", required=True, type=Path, help="benchmark YAML, e.g. configs/bench_kitti.yaml")
    parser.add_argument(
        "--trackers",
        required=True,
        type=_names,
        help=f"comma-separated backends: vtrack's {', '.join(own)} and the peer backends {', '.join(PEERS)} "
        "(pip extra 'peers'; the boxmot-* ones need boxmot, installed separately); NAME@FILE.yaml runs NAME with "
        "the config overrides in FILE.yaml, labelled NAME@FILE (ablations)",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (must be empty unless --resume)")
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument("--resume", action="store_true", help="keep the (backend, sequence) runs already done in --out")
    resume.add_argument("--exist-ok", action="store_true", help="write into a non-empty --out, redoing every run")
    parser.add_argument("--sequences", type=_names, default=(), help="comma-separated subset of the sequences")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="detector-driven benchmarks: detection cache (default $XDG_CACHE_HOME/vtrack/detections)",
    )
    parser.add_argument(
        "--detect-every",
        type=_positive_int,
        default=1,
        metavar="K",
        help="give the detections of every K-th frame only; between them vtrack's backends predict "
        "(as vtrack track --detect-every does) and peers get none (default 1: every frame)",
    )
    parallel = parser.add_argument_group(
        "in parallel (scores and report as in a serial run; update fps per pair, on one thread)"
    )
    parallel.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="run N (backend, sequence) pairs at once in worker processes, one thread each (default 1: one by one)",
    )
    parallel.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL_RAY,
        metavar="ADDRESS",
        help="run the pairs as Ray tasks of one CPU (pip install 'vtrack[fleet]'): on the cluster at ADDRESS "
        "(auto, ray://head:10001; the dataset, --out and --cache-dir on a filesystem every node shares) or on a "
        "local Ray instance without ADDRESS",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark described by ``args`` (from :func:`add_arguments`); return the exit status."""
    from benchmarks.config import load_benchmark
    from benchmarks.evaluate import EvaluationError
    from benchmarks.runner import BenchOptions, default_cache_dir, run_benchmark, variant
    from tracker.app import report
    from tracker.app.parallel import ParallelError

    command = getattr(args, "bench_command", None) or shlex.join(["vtrack", *sys.argv[1:]])
    entries = [variant(entry) for entry in args.trackers]
    try:
        options = BenchOptions(
            trackers=tuple(label for label, _ in entries),
            variants={label: path for label, path in entries if path is not None},
            out=args.out,
            resume=args.resume,
            exist_ok=args.exist_ok,
            sequences=tuple(args.sequences),
            cache_dir=args.cache_dir or default_cache_dir(),
            command=command,
            progress=not args.no_progress,
            detect_every=args.detect_every,
            workers=args.workers,
            ray=args.ray,
        )
        bench = load_benchmark(args.benchmark)
        result = run_benchmark(bench, options)
    except (OSError, ValueError, ImportError, EvaluationError, ParallelError) as error:
        report.error(_COMMAND, str(error))
        return report.EXIT_ERROR
    except KeyboardInterrupt:
        report.error(_COMMAND, f"interrupted; rerun with --resume to continue from {args.out}")
        return report.EXIT_INTERRUPTED
    return EXIT_FAILED_PAIRS if result.failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks.cli``: parse ``argv`` (default ``sys.argv[1:]``) and :func:`run`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.bench_command = shlex.join(["python", "-m", "benchmarks.cli", *argv])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

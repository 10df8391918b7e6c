"""Box-prediction evaluation of motion models on held-out sequences, and the LSTM's inference cost.

``python -m benchmarks.motion.evaluate --config configs/train_motion.yaml --weights F0.npz F1.npz``
replays every held-out sequence of every fold (fold ``i`` with the weights trained
without it) through three motion models behind the same seam:

- ``cv``: constant velocity from the last two observations
  (:class:`tracker.motion.lstm.ConstantVelocityMotion`);
- ``kalman``: SORT's Kalman filter (:class:`tracker.motion.kalman.KalmanMotion`);
- ``lstm``: the learned model (:class:`tracker.motion.lstm.LstmMotion`).

**Protocol.** Frames are replayed in order at the sequence's frame rate, as the
tracker would: every live track is predicted by one frame period, then updated
with its observation if it has one. At every frame where a track is observed and
has at least two observations (an *origin*), a copy of its state is predicted
``g = 1 .. max_gap`` frames ahead with no further observations, and the predicted box
is compared with the ground-truth box ``g`` frames later (where labelled): centre
error in pixels and IoU. Two kinds of observations:

- ``gt``: the ground-truth boxes themselves (clean histories);
- ``det``: public detections matched one-to-one to the ground truth (Hungarian,
  IoU >= ``match_iou``): real detector noise and real misses (KITTI RRC, MOT17 FRCNN).

``--timing`` measures :class:`~tracker.motion.lstm.LstmMotion`'s per-frame cost
(``predict`` + ``boxes`` + ``update`` for ``N`` tracks); run it with
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` to pin NumPy to one thread.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from benchmarks.motion.train import TrainMotionConfig, Trajectory, load_config, load_trajectories
from tracker.boxes import iou_matrix
from tracker.formats import KittiDetections, MotDetections, group_rows, read_kitti_csv, read_mot_detections
from tracker.motion.base import MotionModel, MotionState
from tracker.motion.kalman import KalmanMotion
from tracker.motion.lstm import ConstantVelocityMotion, LstmMotion, LstmMotionConfig, LstmWeights

__all__ = [
    "EvalSettings",
    "Observations",
    "detection_boxes",
    "detection_observations",
    "evaluate_folds",
    "evaluate_sequence",
    "format_table",
    "gt_observations",
    "main",
    "summarise",
    "time_inference",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSettings:
    """Settings of the box-prediction evaluation.

    Attributes:
        max_gap: largest horizon in frames.
        max_horizon_s: the LSTM's :attr:`~tracker.motion.lstm.LstmMotionConfig.max_horizon_s`
            (seconds; beyond it a forecast is held).
        match_iou: smallest IoU for a detection to stand for a ground-truth box (``det``).
        timing_tracks: tracks per frame in the inference timing.
        timing_frames: frames timed (after ``timing_warmup`` untimed ones).
        timing_warmup: untimed frames first.
    """

    max_gap: int = 10
    max_horizon_s: float = LstmMotionConfig.max_horizon_s
    match_iou: float = 0.5
    timing_tracks: int = 30
    timing_frames: int = 2000
    timing_warmup: int = 200


@dataclass(frozen=True)
class Observations:
    """What a motion model sees of one sequence, and the truth it is scored against.

    Attributes:
        frame_period: seconds per frame.
        observed: ``{frame: (track_ids (K,) int64, xyxy (K, 4) float64)}``, the
            observation of each track in each frame where it has one.
        truth: ``{(track_id, frame): xyxy (4,)}`` ground-truth boxes.
    """

    frame_period: float
    observed: dict[int, tuple[np.ndarray, np.ndarray]]
    truth: dict[tuple[int, int], np.ndarray]


def _truth(tracks: list[Trajectory]) -> dict[tuple[int, int], np.ndarray]:
    return {(t.track_id, int(f)): b for t in tracks for f, b in zip(t.frames, t.boxes, strict=True)}


def gt_observations(tracks: list[Trajectory]) -> Observations:
    """Observations = the ground truth itself, for the trajectories of one sequence."""
    by_frame: dict[int, list[tuple[int, np.ndarray]]] = {}
    for t in tracks:
        for f, b in zip(t.frames.tolist(), t.boxes, strict=True):
            by_frame.setdefault(f, []).append((t.track_id, b))
    observed = {
        f: (np.array([i for i, _ in rows], dtype=np.int64), np.stack([b for _, b in rows]))
        for f, rows in by_frame.items()
    }
    return Observations(tracks[0].frame_period, observed, _truth(tracks))


def detection_observations(
    tracks: list[Trajectory], detections: dict[int, np.ndarray], match_iou: float
) -> Observations:
    """Observations = detections matched to the ground truth of one sequence.

    Args:
        tracks: the sequence's ground-truth trajectories.
        detections: ``{frame: (N, 4) xyxy}`` detector output.
        match_iou: smallest IoU of a match (Hungarian on IoU per frame).
    """
    truth = _truth(tracks)
    by_frame: dict[int, list[tuple[int, np.ndarray]]] = {}
    for (track_id, f), b in truth.items():
        by_frame.setdefault(f, []).append((track_id, b))
    observed = {}
    for f, rows in by_frame.items():
        dets = detections.get(f)
        if dets is None or not len(dets):
            continue
        ids = np.array([i for i, _ in rows], dtype=np.int64)
        iou = iou_matrix(np.stack([b for _, b in rows]), dets)
        r, c = linear_sum_assignment(-iou)
        ok = iou[r, c] >= match_iou
        if ok.any():
            order = np.argsort(ids[r[ok]])
            observed[f] = (ids[r[ok]][order], dets[c[ok]][order])
    return Observations(tracks[0].frame_period, observed, truth)


def detection_boxes(detections: MotDetections | KittiDetections) -> dict[int, np.ndarray]:
    """``{frame: (N, 4) float64 xyxy}`` of a detection file read by :mod:`tracker.formats`, rows in file order."""
    return {frame: detections.xyxy[rows] for frame, rows in group_rows(detections.frames).items()}


def _paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N,)`` IoU of row ``i`` of ``a`` with row ``i`` of ``b`` (``(N, 4)`` ``xyxy`` each)."""
    wh = np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0.0, None)
    inter = wh[:, 0] * wh[:, 1]
    union = np.prod(a[:, 2:] - a[:, :2], axis=1) + np.prod(b[:, 2:] - b[:, :2], axis=1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def evaluate_sequence(model: MotionModel, obs: Observations, max_gap: int) -> dict[str, np.ndarray]:
    """Replay one sequence through ``model`` (see the module doc) and score its forecasts.

    Returns:
        ``{"gap": (P,) int64 frames, "center_error": (P,) float64 px, "iou": (P,) float64,
        "history": (P,) int64 observations at the origin}`` for every scored prediction.
    """
    dt = obs.frame_period
    frames = sorted(obs.observed)
    last_seen: dict[int, int] = {}
    for f in frames:
        for i in obs.observed[f][0].tolist():
            last_seen[i] = f
    state = MotionState()
    ids = np.zeros(0, dtype=np.int64)
    counts = np.zeros(0, dtype=np.int64)
    out: dict[str, list[np.ndarray]] = {"gap": [], "center_error": [], "iou": [], "history": []}
    for f in range(frames[0], frames[-1] + 1):
        if len(ids):
            state = model.predict(state, dt)
        if f not in obs.observed:
            continue
        obs_ids, obs_boxes = obs.observed[f]
        row_of = {i: r for r, i in enumerate(ids.tolist())}
        known = np.array([i in row_of for i in obs_ids.tolist()], dtype=bool)
        rows = np.array([row_of[i] for i in obs_ids[known].tolist()], dtype=np.int64)
        if len(rows):
            state.put(rows, model.update(state.take(rows), obs_boxes[known]))
            counts[rows] += 1
        if (~known).any():
            state = state.concat(model.initiate(obs_boxes[~known]))
            ids = np.concatenate([ids, obs_ids[~known]])
            counts = np.concatenate([counts, np.ones(int((~known).sum()), dtype=np.int64)])
        row_of = {i: r for r, i in enumerate(ids.tolist())}
        origins = np.array([row_of[i] for i in obs_ids.tolist()], dtype=np.int64)
        origins = origins[counts[origins] >= 2]
        branch = state.take(origins)
        for g in range(1, max_gap + 1):
            if not len(origins):
                break
            branch = model.predict(branch, dt)
            truth = [obs.truth.get((track_id, f + g)) for track_id in ids[origins].tolist()]
            scored = np.array([t is not None for t in truth], dtype=bool)
            if not scored.any():
                continue
            predicted = model.boxes(branch)[scored]
            true = np.stack([t for t in truth if t is not None])
            out["gap"].append(np.full(len(true), g))
            out["center_error"].append(
                np.hypot(*((predicted[:, :2] + predicted[:, 2:] - true[:, :2] - true[:, 2:]) / 2).T)
            )
            out["iou"].append(_paired_iou(predicted, true))
            out["history"].append(counts[origins[scored]])
        alive = np.array([last_seen[i] > f for i in ids.tolist()], dtype=bool)
        if not alive.all():
            state, ids, counts = model.select(state, alive), ids[alive], counts[alive]
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}


def summarise(results: dict[str, np.ndarray]) -> dict[int, dict[str, float]]:
    """``{gap: {"n", "center_error_mean", "center_error_median", "iou_mean"}}`` of one model's results."""
    table = {}
    for g in np.unique(results["gap"]).astype(int).tolist():
        sel = results["gap"] == g
        table[g] = {
            "n": int(sel.sum()),
            "center_error_mean": float(results["center_error"][sel].mean()),
            "center_error_median": float(np.median(results["center_error"][sel])),
            "iou_mean": float(results["iou"][sel].mean()),
        }
    return table


def _sequence_observations(
    config: TrainMotionConfig, dataset: str, sequence: str, kind: str, settings: EvalSettings
) -> Observations | None:
    """The sequence's observations of ``kind``; None when it has no trajectory (KITTI 0017 has no vehicle)."""
    root = Path(config.data_root)
    if dataset == "kitti":
        tracks = load_trajectories(config, (sequence,), ())
        det_path = root / "kitti_tracking" / "training" / "det_02_rrc" / f"{sequence}.txt"
        reader: Callable[[Path], MotDetections | KittiDetections] = read_kitti_csv
    else:
        tracks = load_trajectories(config, (), (sequence,))
        det_path = root / "MOT17" / "train" / f"MOT17-{sequence}-{config.mot17_detector}" / "det" / "det.txt"
        reader = read_mot_detections
    if not tracks:
        return None
    if kind == "gt":
        return gt_observations(tracks)
    return detection_observations(tracks, detection_boxes(reader(det_path)), settings.match_iou)


def evaluate_folds(
    config: TrainMotionConfig, weights: list[Path], settings: EvalSettings, kinds: tuple[str, ...] = ("gt", "det")
) -> dict[str, dict[str, dict[str, dict[int, dict[str, float]]]]]:
    """Every fold's held-out sequences with that fold's weights, pooled per dataset.

    Returns:
        ``{"<dataset>/<kind>": {model: {gap: metrics}}}`` with metrics from :func:`summarise`.

    Raises:
        ValueError: ``weights`` does not give one file per fold.
    """
    if len(weights) != len(config.folds):
        raise ValueError(f"need one weights file per fold ({len(config.folds)}), got {len(weights)}")
    pooled: dict[str, dict[str, list[dict[str, np.ndarray]]]] = {}
    for fold, path in zip(config.folds, weights, strict=True):
        lstm_weights = LstmWeights.load(path)
        models: dict[str, MotionModel] = {
            "cv": ConstantVelocityMotion(lstm_weights.window),
            "kalman": KalmanMotion(),
            "lstm": LstmMotion(LstmMotionConfig(weights=str(path), max_horizon_s=settings.max_horizon_s), lstm_weights),
        }
        held_out = [("kitti", s) for s in fold.kitti] + [("mot17", s) for s in fold.mot17]
        for dataset, sequence in held_out:
            for kind in kinds:
                obs = _sequence_observations(config, dataset, sequence, kind, settings)
                if obs is None:
                    log.info("%s %s: no trajectories of the studied classes, skipped", dataset, sequence)
                    continue
                for name, model in models.items():
                    started = time.perf_counter()
                    result = evaluate_sequence(model, obs, settings.max_gap)
                    pooled.setdefault(f"{dataset}/{kind}", {}).setdefault(name, []).append(result)
                    log.info(
                        "%s %s %s %s: %d predictions, %.1f s",
                        dataset,
                        sequence,
                        kind,
                        name,
                        len(result["gap"]),
                        time.perf_counter() - started,
                    )
    return {
        key: {name: summarise({k: np.concatenate([r[k] for r in runs]) for k in runs[0]}) for name, runs in by.items()}
        for key, by in pooled.items()
    }


def format_table(summary: dict[str, dict[str, dict[int, dict[str, float]]]], gaps: tuple[int, ...]) -> str:
    """A Markdown table: per dataset/observations and gap, mean centre error (px) and mean IoU of each model."""
    models = ("cv", "kalman", "lstm")
    head = "| data / obs | gap (frames) | n | " + " | ".join(f"{m} err px" for m in models)
    head += " | " + " | ".join(f"{m} IoU" for m in models) + " |"
    lines = [head, "|" + "---|" * (3 + 2 * len(models))]
    for key, by_model in summary.items():
        for g in gaps:
            if g not in by_model["lstm"]:
                continue
            errs = " | ".join(f"{by_model[m][g]['center_error_mean']:.2f}" for m in models)
            ious = " | ".join(f"{by_model[m][g]['iou_mean']:.3f}" for m in models)
            lines.append(f"| {key} | {g} | {by_model['lstm'][g]['n']} | {errs} | {ious} |")
    return "\n".join(lines)


def time_inference(weights: LstmWeights, settings: EvalSettings, seed: int) -> dict[str, float]:
    """Per-frame seconds of ``predict`` + ``boxes`` + ``update`` for ``timing_tracks`` full-window tracks.

    Synthetic tracks (random boxes drifting at random velocities) at 10 Hz; returns
    ``{"tracks", "frames", "mean_ms", "median_ms", "p95_ms"}``.
    """
    rng = np.random.default_rng(seed)
    model = LstmMotion(weights=weights)
    n, dt = settings.timing_tracks, 0.1
    start = np.concatenate([rng.uniform(0, 1000, (n, 2)), rng.uniform(20, 200, (n, 2))], axis=1)
    start[:, 2:] += start[:, :2]
    velocity = rng.uniform(-50, 50, (n, 1)) * np.array([1.0, 0.2, 1.0, 0.2])
    state = model.initiate(start)
    laps = []
    for k in range(1, settings.timing_warmup + settings.timing_frames + 1):
        began = time.perf_counter()
        state = model.predict(state, dt)
        model.boxes(state)
        state = model.update(state, start + velocity * k * dt)
        laps.append(time.perf_counter() - began)
    ms = np.array(laps[settings.timing_warmup :]) * 1000
    return {
        "tracks": n,
        "frames": settings.timing_frames,
        "mean_ms": float(ms.mean()),
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: the fold evaluation (``--weights``) and/or the inference timing (``--timing``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.motion.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="training YAML (folds, data_root)")
    parser.add_argument("--weights", type=Path, nargs="*", default=[], help="one weights file per fold, in fold order")
    parser.add_argument("--kinds", nargs="+", default=["gt", "det"], choices=["gt", "det"], help="observation kinds")
    parser.add_argument("--out", type=Path, help="write the full summary (every gap) as JSON here")
    parser.add_argument("--max-gap", type=int, default=EvalSettings.max_gap, help="largest horizon in frames")
    parser.add_argument(
        "--max-horizon",
        type=float,
        default=EvalSettings.max_horizon_s,
        help="the LSTM's max_horizon_s in seconds (forecasts beyond it are held)",
    )
    parser.add_argument("--timing", type=Path, help="time inference with these weights")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config)
    settings = EvalSettings(max_gap=args.max_gap, max_horizon_s=args.max_horizon)
    report: dict[str, object] = {}
    if args.weights:
        summary = evaluate_folds(config, args.weights, settings, tuple(args.kinds))
        report["prediction"] = summary
        log.info(
            "box prediction on held-out sequences:\n%s", format_table(summary, tuple(range(1, settings.max_gap + 1)))
        )
    if args.timing:
        report["timing"] = time_inference(LstmWeights.load(args.timing), settings, config.seed)
        log.info("inference: %s", report["timing"])
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

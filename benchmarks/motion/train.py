"""Training the LSTM motion model (:mod:`tracker.motion.lstm`) on ground-truth trajectories.

``vtrack train-motion --config configs/train_motion.yaml --out DIR`` (or
``python -m benchmarks.motion.train ...``) writes ``DIR/lstm_motion.npz`` (the
weights, with the training record in their metadata) and ``DIR/train_log.json``.

**Data.** Trajectories come from ground truth: KITTI tracking ``label_02`` (Car, Van,
Truck; 10 Hz; Geiger et al., CVPR 2012) and MOT17 ``gt.txt`` (pedestrians with
``consider == 1`` and ``class == 1``; frame rate from ``seqinfo.ini``; Milan et al.,
2016). The DPM/FRCNN/SDP copies of a MOT17 sequence share one ground truth, so only
the ``mot17_detector`` copy is read. A fold's held-out sequences are never read for
training: validation always covers whole sequences.

**Samples.** One sample is a track's observed history up to an *anchor* observation
and its true box ``k`` frames later (``k`` in ``1..max_gap_frames``). Augmentation
makes the history look like detector output (Sadeghian et al., ICCV 2017 and
Milan et al., AAAI 2017 train on ground truth in the same spirit):

- dropped frames: each earlier observation is dropped with a per-sample probability
  in ``[0, drop_max]``, and with ``burst_probability`` a run of up to ``burst_max``
  consecutive observations is dropped (a missed detection or an occlusion);
- short histories: with ``short_probability`` the window keeps only 2 to ``W``
  observations (young tracks);
- box jitter: centres move by Gaussian noise with a per-sample std in
  ``[0, jitter_center_max]`` box sizes, log-width and log-height by noise with a std in
  ``[0, jitter_size_max]`` (none with ``clean_probability``); the target stays the
  true box.

Each epoch draws fresh samples from one NumPy generator seeded by ``seed`` (the
validation samples from ``seed + 1``), so training is deterministic for a seed
(``torch.manual_seed``, ``torch.use_deterministic_algorithms``, a fixed thread count;
one thread is the default: on two shared cores, two threads made an epoch about 30
times slower).

**Loss.** Smooth-L1 (Huber) between the predicted and the true anchor-relative
displacement ``(dcx / w_a, dcy / h_a, log(w / w_a), log(h / h_a))``, AdamW with a
cosine learning-rate decay.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tracker.config import from_mapping, to_dict
from tracker.formats import group_rows, read_kitti_labels, read_mot_ground_truth, read_seqinfo
from tracker.motion.lstm import FEATURE_NAMES, LstmWeights, to_cxcywh, window_features

__all__ = [
    "FoldConfig",
    "SampleBatch",
    "TrainMotionConfig",
    "Trajectory",
    "add_arguments",
    "fit",
    "load_config",
    "load_kitti",
    "load_mot17",
    "load_trajectories",
    "main",
    "make_samples",
    "run",
    "split",
    "target_deltas",
]

log = logging.getLogger(__name__)

#: Every sequence of the KITTI tracking train split shipped in ``shared/``.
KITTI_SEQUENCES = ("0000", "0002", "0003", "0004", "0005", "0007", "0009", "0011", "0017", "0020")
#: The MOT17 train sequences.
MOT17_SEQUENCES = ("02", "04", "05", "09", "10", "11", "13")
#: Smallest standard deviation used to standardise a feature or a target (a constant one stays finite).
_STD_FLOOR = np.float32(1e-6)


@dataclass(frozen=True)
class FoldConfig:
    """Sequences held out of training (and used for validation) in one fold.

    Attributes:
        kitti: KITTI sequence names, e.g. ``"0000"``.
        mot17: MOT17 sequence numbers, e.g. ``"02"``.
    """

    kitti: tuple[str, ...] = ()
    mot17: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainMotionConfig:
    """Training settings; ``configs/train_motion.yaml`` overrides them (units in the names).

    Attributes:
        seed: seeds sampling, augmentation and the network's initialisation.
        threads: torch CPU threads (fixed for determinism).
        data_root: folder holding ``kitti_tracking/`` and ``MOT17/`` (relative paths are
            relative to the working directory).
        kitti_sequences, mot17_sequences: the sequences of the study (train + held out).
        kitti_classes: KITTI object types kept as trajectories.
        kitti_fps: KITTI's frame rate (Hz).
        mot17_detector: which copy of each MOT17 sequence to read the ground truth from.
        folds: held-out sequences per fold; ``fold`` picks the one to train.
        fold: index into ``folds``.
        window: ``W``, observations per history (the model's window).
        hidden: LSTM hidden size (<= 128).
        head_hidden: width of the head MLP's hidden layer.
        max_gap_frames: largest prediction horizon in frames.
        one_step_fraction: share of samples whose horizon is exactly one frame (the
            rest draw ``k`` uniformly from ``1..max_gap_frames``).
        span_factor: the history is picked from the last ``span_factor * W``
            observations before drops.
        drop_max: largest per-sample probability of dropping an observation.
        burst_probability: probability of dropping a run of consecutive observations.
        burst_max: longest dropped run (observations).
        short_probability: probability of a short history (2 to ``W`` observations).
        jitter_center_max: largest centre-noise std, in box widths/heights.
        jitter_size_max: largest std of the noise on log-width and log-height.
        clean_probability: probability that a sample gets no jitter at all (clean
            ground-truth histories).
        kitti_share: share of training samples drawn from KITTI (the rest: MOT17).
        min_box_size_px: width/height floor in pixels (as at tracking time).
        samples_per_epoch: fresh training samples drawn per epoch.
        validation_samples: samples drawn once from the held-out sequences.
        epochs: passes; each uses new samples.
        batch_size: samples per optimisation step.
        learning_rate: AdamW's peak learning rate (cosine decay to 0).
        weight_decay: AdamW's weight decay.
        huber_beta: the Smooth-L1 loss's switch point (box units).
    """

    seed: int = 0
    threads: int = 1
    data_root: str = "../shared/data"
    kitti_sequences: tuple[str, ...] = KITTI_SEQUENCES
    mot17_sequences: tuple[str, ...] = MOT17_SEQUENCES
    kitti_classes: tuple[str, ...] = ("Car", "Van", "Truck")
    kitti_fps: float = 10.0
    mot17_detector: str = "FRCNN"
    folds: tuple[FoldConfig, ...] = (
        FoldConfig(kitti=("0000", "0003", "0005", "0009", "0011"), mot17=("02", "05", "09", "11")),
        FoldConfig(kitti=("0002", "0004", "0007", "0017", "0020"), mot17=("04", "10", "13")),
    )
    fold: int = 0
    window: int = 10
    hidden: int = 32
    head_hidden: int = 64
    max_gap_frames: int = 10
    one_step_fraction: float = 0.5
    span_factor: int = 3
    drop_max: float = 0.3
    burst_probability: float = 0.3
    burst_max: int = 8
    short_probability: float = 0.3
    jitter_center_max: float = 0.05
    jitter_size_max: float = 0.08
    clean_probability: float = 0.6
    kitti_share: float = 0.5
    min_box_size_px: float = 1.0
    samples_per_epoch: int = 65536
    validation_samples: int = 16384
    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    huber_beta: float = 0.05

    def __post_init__(self) -> None:
        if not 1 <= self.hidden <= 128:
            raise ValueError(f"hidden must be in 1..128, got {self.hidden}")
        if self.window < 2:
            raise ValueError(f"window must be >= 2, got {self.window}")
        if not 0 <= self.fold < len(self.folds):
            raise ValueError(f"fold must index folds (0..{len(self.folds) - 1}), got {self.fold}")
        if self.max_gap_frames < 1:
            raise ValueError(f"max_gap_frames must be >= 1, got {self.max_gap_frames}")
        if not 0.0 <= self.kitti_share <= 1.0:
            raise ValueError(f"kitti_share must be in [0, 1], got {self.kitti_share}")

    @property
    def holdout(self) -> FoldConfig:
        """The held-out sequences of the selected fold."""
        return self.folds[self.fold]


@dataclass(frozen=True)
class Trajectory:
    """One ground-truth track.

    Attributes:
        dataset: ``"kitti"`` or ``"mot17"``.
        sequence: sequence name (``"0000"``, ``"02"``).
        track_id: the id in the ground truth.
        frames: ``(N,)`` int64 frame numbers, increasing (gaps where unlabelled).
        boxes: ``(N, 4)`` float64 ``xyxy`` pixels.
        frame_period: seconds per frame (1 / fps).
    """

    dataset: str
    sequence: str
    track_id: int
    frames: np.ndarray
    boxes: np.ndarray
    frame_period: float

    @property
    def times(self) -> np.ndarray:
        """``(N,)`` float64 seconds since the sequence's frame 0."""
        return self.frames * self.frame_period


def _group(
    dataset: str, sequence: str, period: float, frames: np.ndarray, track_ids: np.ndarray, boxes: np.ndarray
) -> list[Trajectory]:
    """One trajectory per track ID (ascending), its ``(N,)`` frames and ``(N, 4)`` boxes sorted by frame."""
    tracks = []
    for track_id, rows in group_rows(track_ids).items():
        order = rows[np.argsort(frames[rows], kind="stable")]
        tracks.append(Trajectory(dataset, sequence, track_id, frames[order], boxes[order], period))
    return tracks


def load_kitti(label_dir: Path, sequence: str, classes: tuple[str, ...], fps: float) -> list[Trajectory]:
    """Trajectories of the ``classes`` objects (types compared exactly) in KITTI ``label_02/<sequence>.txt``.

    Raises:
        FileNotFoundError: the label file is missing.
        tracker.formats.FormatError: a malformed row (file and line named).
    """
    labels = read_kitti_labels(Path(label_dir) / f"{sequence}.txt")
    keep = np.isin(labels.types, classes)
    return _group("kitti", sequence, 1.0 / fps, labels.frames[keep], labels.track_ids[keep], labels.xyxy[keep])


def load_mot17(sequence_dir: Path) -> list[Trajectory]:
    """Pedestrian trajectories (``consider == 1``, ``class == 1``) of a MOT17 sequence folder.

    The frame rate comes from ``seqinfo.ini``; ``gt.txt`` boxes are ``tlwh`` and become ``xyxy``.

    Raises:
        FileNotFoundError: ``seqinfo.ini`` or ``gt/gt.txt`` is missing.
        tracker.formats.FormatError: either is malformed, or ``seqinfo.ini`` has no ``frameRate``.
    """
    sequence_dir = Path(sequence_dir)
    info = read_seqinfo(sequence_dir / "seqinfo.ini")
    if info.frame_rate is None:
        raise info.missing("frameRate")
    gt = read_mot_ground_truth(sequence_dir / "gt" / "gt.txt")
    keep = gt.consider & (gt.classes == 1)
    sequence = sequence_dir.name.split("-")[1]
    return _group("mot17", sequence, 1.0 / info.frame_rate, gt.frames[keep], gt.ids[keep], gt.xyxy[keep])


def load_trajectories(config: TrainMotionConfig, kitti: tuple[str, ...], mot17: tuple[str, ...]) -> list[Trajectory]:
    """Ground-truth trajectories of the named KITTI and MOT17 sequences under ``config.data_root``."""
    root = Path(config.data_root)
    tracks: list[Trajectory] = []
    for sequence in kitti:
        label_dir = root / "kitti_tracking" / "training" / "label_02"
        tracks += load_kitti(label_dir, sequence, config.kitti_classes, config.kitti_fps)
    for sequence in mot17:
        tracks += load_mot17(root / "MOT17" / "train" / f"MOT17-{sequence}-{config.mot17_detector}")
    return tracks


@dataclass(frozen=True)
class SampleBatch:
    """Training samples as the model sees them at tracking time.

    Attributes:
        window: ``(N, W, 4)`` float64 observed (augmented) ``xyxy`` pixels, right-aligned.
        times: ``(N, W)`` float64 seconds relative to the anchor (last) observation.
        valid: ``(N, W)`` bool, right-aligned valid entries (at least 2 per row).
        horizon: ``(N,)`` float64 seconds from the anchor to the target.
        target: ``(N, 4)`` float64 true ``xyxy`` box at the horizon.
    """

    window: np.ndarray
    times: np.ndarray
    valid: np.ndarray
    horizon: np.ndarray
    target: np.ndarray

    def __len__(self) -> int:
        return len(self.horizon)


class _Flat:
    """All observations of a list of trajectories in one set of arrays, track after track."""

    def __init__(self, tracks: list[Trajectory], margin: int) -> None:
        self.boxes = np.concatenate([t.boxes for t in tracks])
        self.times = np.concatenate([t.times for t in tracks])
        lengths = np.array([len(t.frames) for t in tracks])
        self.start = np.repeat(np.cumsum(lengths) - lengths, lengths)
        track_index = np.repeat(np.arange(len(tracks)), lengths)
        frames = np.concatenate([t.frames for t in tracks])
        # a track's keys never reach the next track's, even ``margin`` frames past its end
        self.span = int(frames.max()) + 1 + margin
        self.key = track_index * self.span + frames
        self.kitti = np.repeat(np.array([t.dataset == "kitti" for t in tracks]), lengths)


def _draw(flat: _Flat, n: int, config: TrainMotionConfig, rng: np.random.Generator) -> SampleBatch:
    """Up to ``n`` samples (fewer when rejected draws are not replaced)."""
    w = config.window
    # anchors: observations with at least one earlier observation in their track
    has_past = np.arange(len(flat.key)) > flat.start
    pools = [np.flatnonzero(has_past & flat.kitti), np.flatnonzero(has_past & ~flat.kitti)]
    pools = [p for p in pools if len(p)]
    shares = [config.kitti_share, 1.0 - config.kitti_share] if len(pools) == 2 else [1.0]
    from_first = rng.random(n) < shares[0]
    anchor = np.where(from_first, rng.choice(pools[0], n), rng.choice(pools[-1], n))

    k = np.where(rng.random(n) < config.one_step_fraction, 1, rng.integers(1, config.max_gap_frames + 1, n))
    target_key = flat.key[anchor] + k
    target = np.minimum(np.searchsorted(flat.key, target_key), len(flat.key) - 1)
    has_target = flat.key[target] == target_key

    span = config.span_factor * w
    offsets = np.arange(span)
    candidate = anchor[:, None] - offsets[None, :]
    keep = candidate >= flat.start[anchor][:, None]
    drop_p = rng.random(n) * config.drop_max
    keep &= (rng.random((n, span)) >= drop_p[:, None]) | (offsets == 0)
    burst = rng.random(n) < config.burst_probability
    burst_start = rng.integers(1, span, n)
    burst_len = rng.integers(1, config.burst_max + 1, n)
    in_burst = (offsets >= burst_start[:, None]) & (offsets < (burst_start + burst_len)[:, None])
    keep &= ~(burst[:, None] & in_burst)
    short = rng.random(n) < config.short_probability
    length = np.where(short, rng.integers(2, w + 1, n), w)
    rank = np.cumsum(keep, axis=1) - 1
    keep &= rank < length[:, None]
    kept = keep.sum(axis=1)
    ok = has_target & (kept >= 2)

    anchor, target, candidate, keep, rank, kept = (a[ok] for a in (anchor, target, candidate, keep, rank, kept))
    m = len(anchor)
    rows, cols = np.nonzero(keep)
    slot = w - 1 - rank[rows, cols]
    window = np.zeros((m, w, 4))
    times = np.zeros((m, w))
    valid = np.zeros((m, w), dtype=bool)
    index = candidate[rows, cols]
    window[rows, slot] = flat.boxes[index]
    times[rows, slot] = flat.times[index] - flat.times[anchor][rows]
    valid[rows, slot] = True

    cxcywh = to_cxcywh(window)
    size = np.maximum(cxcywh[..., 2:], config.min_box_size_px)
    noisy = (rng.random(m) >= config.clean_probability)[:, None, None]
    center_std = rng.random(m)[:, None, None] * config.jitter_center_max * noisy
    size_std = rng.random(m)[:, None, None] * config.jitter_size_max * noisy
    cxcywh[..., :2] += rng.standard_normal((m, w, 2)) * center_std * size
    cxcywh[..., 2:] = size * np.exp(rng.standard_normal((m, w, 2)) * size_std)
    half = cxcywh[..., 2:] / 2
    window = np.where(valid[..., None], np.concatenate([cxcywh[..., :2] - half, cxcywh[..., :2] + half], -1), 0.0)
    return SampleBatch(window, times, valid, flat.times[target] - flat.times[anchor], flat.boxes[target])


def make_samples(tracks: list[Trajectory], n: int, config: TrainMotionConfig, rng: np.random.Generator) -> SampleBatch:
    """Exactly ``n`` augmented samples from ``tracks`` (see the module doc), drawn with ``rng``.

    Raises:
        ValueError: no track has two observations, or too few samples can be drawn.
    """
    flat = _Flat(tracks, config.max_gap_frames)
    if not (np.arange(len(flat.key)) > flat.start).any():
        raise ValueError("need at least one trajectory with two observations")
    parts: list[SampleBatch] = []
    total = 0
    for _ in range(config.max_gap_frames + 2):
        part = _draw(flat, 2 * (n - total), config, rng)
        parts.append(part)
        total += len(part)
        if total >= n:
            break
    if total < n:
        raise ValueError(f"could only draw {total} of {n} samples; tracks too short for max_gap_frames")
    return SampleBatch(*(np.concatenate([getattr(p, f) for p in parts])[:n] for f in SampleBatch.__dataclass_fields__))


def target_deltas(batch: SampleBatch, min_size: float) -> np.ndarray:
    """``(N, 4)`` true displacements of :func:`tracker.motion.lstm.decode_deltas` (anchor = newest observation)."""
    anchor = to_cxcywh(batch.window[:, -1])
    anchor[:, 2:] = np.maximum(anchor[:, 2:], min_size)
    truth = to_cxcywh(batch.target)
    truth[:, 2:] = np.maximum(truth[:, 2:], min_size)
    return np.concatenate([(truth[:, :2] - anchor[:, :2]) / anchor[:, 2:], np.log(truth[:, 2:] / anchor[:, 2:])], 1)


def _left_aligned(features: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move each row's valid suffix to the front (torch's LSTM then reads it from step 0)."""
    w = valid.shape[1]
    length = valid.sum(axis=1)
    index = (np.arange(w)[None, :] + (w - length)[:, None]) % w
    return np.take_along_axis(features, index[..., None], axis=1), length


class _Tensors:
    """A :class:`SampleBatch` as torch tensors ready for the network."""

    def __init__(self, batch: SampleBatch, min_size: float) -> None:
        import torch

        features = window_features(batch.window, batch.times, batch.valid, min_size)
        left, length = _left_aligned(features, batch.valid)
        self.raw_features = features
        self.features = torch.from_numpy(left)
        self.last = torch.from_numpy(length - 1)
        self.horizon = torch.from_numpy(batch.horizon.astype(np.float32))
        self.deltas = torch.from_numpy(target_deltas(batch, min_size).astype(np.float32))


def _build_network(config: TrainMotionConfig) -> Any:
    import torch

    return torch.nn.ModuleDict(
        {
            "lstm": torch.nn.LSTM(len(FEATURE_NAMES), config.hidden, batch_first=True),
            "head": torch.nn.Sequential(
                torch.nn.Linear(config.hidden + 1, config.head_hidden),
                torch.nn.ReLU(),
                torch.nn.Linear(config.head_hidden, 4),
            ),
        }
    )


def _network_forward(network: Any, norms: dict[str, Any], features: Any, last: Any, horizon: Any) -> Any:
    """Displacements ``(N, 4)`` from left-aligned features; the torch twin of ``lstm_forward``."""
    import torch

    x = (features - norms["feature_mean"]) / norms["feature_std"]
    out, _ = network["lstm"](x)
    h = out[torch.arange(len(last)), last]
    z = network["head"](torch.cat([h, (horizon / norms["horizon_scale"])[:, None]], dim=1))
    return z * norms["target_std"] * horizon[:, None]


def _norms(train: _Tensors, valid: np.ndarray) -> dict[str, np.ndarray]:
    entries = train.raw_features[valid]
    horizon = train.horizon.numpy()
    rates = train.deltas.numpy() / horizon[:, None]
    return {
        "feature_mean": entries.mean(axis=0).astype(np.float32),
        "feature_std": np.maximum(entries.std(axis=0), _STD_FLOOR).astype(np.float32),
        "horizon_scale": np.float32(horizon.mean()),
        "target_std": np.maximum(rates.std(axis=0), _STD_FLOOR).astype(np.float32),
    }


def _export(
    network: Any, norms: dict[str, np.ndarray], config: TrainMotionConfig, metadata: dict[str, Any]
) -> LstmWeights:
    lstm = network["lstm"]
    linear = [m for m in network["head"] if hasattr(m, "weight")]
    return LstmWeights(
        window=config.window,
        weight_ih=lstm.weight_ih_l0.detach().numpy().copy(),
        weight_hh=lstm.weight_hh_l0.detach().numpy().copy(),
        bias=(lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy().copy(),
        head=tuple((m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in linear),
        feature_mean=norms["feature_mean"],
        feature_std=norms["feature_std"],
        horizon_scale=float(norms["horizon_scale"]),
        target_std=norms["target_std"],
        metadata=metadata,
    )


def fit(
    config: TrainMotionConfig, train_tracks: list[Trajectory], validation_tracks: list[Trajectory]
) -> tuple[LstmWeights, dict[str, Any]]:
    """Train the motion LSTM; deterministic for ``config.seed`` and ``config.threads``.

    Args:
        config: training settings.
        train_tracks: trajectories to learn from.
        validation_tracks: held-out trajectories (whole sequences) for the validation
            loss; may be empty.

    Returns:
        The weights (metadata holds the config and the losses) and the training log
        ``{"epochs": [{"epoch", "train_loss", "validation_loss", "seconds"}...], "seconds": ...}``.
    """
    import torch

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    validation = None
    if validation_tracks:
        validation_rng = np.random.default_rng(config.seed + 1)
        held_out = make_samples(validation_tracks, config.validation_samples, config, validation_rng)
        validation = _Tensors(held_out, config.min_box_size_px)

    network = _build_network(config)
    optimiser = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(config.samples_per_epoch / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 0.5 * (1 + math.cos(math.pi * s / total_steps)))
    loss_fn = torch.nn.SmoothL1Loss(beta=config.huber_beta)
    norms_np: dict[str, np.ndarray] = {}
    norms: dict[str, Any] = {}
    history = []
    for epoch in range(config.epochs):
        batch = make_samples(train_tracks, config.samples_per_epoch, config, rng)
        data = _Tensors(batch, config.min_box_size_px)
        if not norms:
            norms_np = _norms(data, batch.valid)
            norms = {name: torch.as_tensor(value) for name, value in norms_np.items()}
        network.train()
        order = torch.from_numpy(rng.permutation(len(batch)))
        running = 0.0
        for step in range(steps_per_epoch):
            rows = order[step * config.batch_size : (step + 1) * config.batch_size]
            predicted = _network_forward(network, norms, data.features[rows], data.last[rows], data.horizon[rows])
            loss = loss_fn(predicted, data.deltas[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            running += loss.item()
        record = {"epoch": epoch + 1, "train_loss": running / steps_per_epoch, "validation_loss": None}
        if validation is not None:
            network.eval()
            with torch.no_grad():
                predicted = _network_forward(network, norms, validation.features, validation.last, validation.horizon)
                record["validation_loss"] = float(loss_fn(predicted, validation.deltas))
        record["seconds"] = time.perf_counter() - started
        history.append(record)
        log.info(
            "epoch %d/%d: train loss %.5f, validation loss %s, %.1f s",
            epoch + 1,
            config.epochs,
            record["train_loss"],
            "n/a" if record["validation_loss"] is None else f"{record['validation_loss']:.5f}",
            record["seconds"],
        )
    seconds = time.perf_counter() - started
    metadata = {
        "config": to_dict(config),
        "train_sequences": sorted({f"{t.dataset}/{t.sequence}" for t in train_tracks}),
        "validation_sequences": sorted({f"{t.dataset}/{t.sequence}" for t in validation_tracks}),
        "train_trajectories": len(train_tracks),
        "final_train_loss": history[-1]["train_loss"],
        "final_validation_loss": history[-1]["validation_loss"],
        "train_seconds": seconds,
        "torch": torch.__version__,
    }
    return _export(network, norms_np, config, metadata), {"epochs": history, "seconds": seconds}


def load_config(path: str | Path | None, overrides: dict[str, Any] | None = None) -> TrainMotionConfig:
    """A :class:`TrainMotionConfig` from a YAML file (or the defaults when ``path`` is None) plus ``overrides``.

    Raises:
        tracker.config.ConfigError: unknown keys or values of the wrong type.
        FileNotFoundError: ``path`` does not exist.
    """
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        data = yaml.safe_load(Path(path).read_text()) or {}
        source = str(path)
    return from_mapping(TrainMotionConfig, {**data, **(overrides or {})}, source=source)


def split(config: TrainMotionConfig) -> tuple[list[Trajectory], list[Trajectory]]:
    """The fold's (training, held-out) trajectories; no sequence is in both."""
    holdout = config.holdout
    train = load_trajectories(
        config,
        tuple(s for s in config.kitti_sequences if s not in holdout.kitti),
        tuple(s for s in config.mot17_sequences if s not in holdout.mot17),
    )
    held_out = load_trajectories(config, holdout.kitti, holdout.mot17)
    return train, held_out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``vtrack train-motion``."""
    parser.add_argument("--config", type=Path, help="training YAML (e.g. configs/train_motion.yaml)")
    parser.add_argument("--out", type=Path, required=True, help="output folder for lstm_motion.npz and train_log.json")
    parser.add_argument("--fold", type=int, help="override the config's fold (index into folds)")
    parser.add_argument("--seed", type=int, help="override the config's seed")
    parser.add_argument("--epochs", type=int, help="override the config's epochs")
    parser.add_argument("--data-root", help="override the config's data_root")


def run(args: argparse.Namespace) -> int:
    """Train with the parsed ``vtrack train-motion`` options; returns the exit status (0)."""
    names = ("fold", "seed", "epochs", "data_root")
    overrides = {key: getattr(args, key) for key in names if getattr(args, key) is not None}
    config = load_config(args.config, overrides)
    train_tracks, held_out = split(config)
    log.info(
        "fold %d: %d training trajectories, %d held-out trajectories (%s)",
        config.fold,
        len(train_tracks),
        len(held_out),
        ", ".join(sorted({f"{t.dataset}/{t.sequence}" for t in held_out})),
    )
    weights, history = fit(config, train_tracks, held_out)
    options = ("config", "out", "fold", "seed", "epochs", "data_root")
    command = " ".join(
        ["vtrack train-motion"]
        + [f"--{k.replace('_', '-')} {getattr(args, k)}" for k in options if getattr(args, k) is not None]
    )
    weights = dataclasses.replace(weights, metadata={**weights.metadata, "command": command})
    args.out.mkdir(parents=True, exist_ok=True)
    weights.save(args.out / "lstm_motion.npz")
    (args.out / "train_log.json").write_text(json.dumps(history, indent=2))
    log.info("wrote %s (%.1f s of training)", args.out / "lstm_motion.npz", history["seconds"])
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.motion.train --config ... --out ...``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.motion.train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

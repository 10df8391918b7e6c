"""Training and evaluation tooling of the LSTM motion model (torch, argparse, PyYAML): not part of the tracker.

The model itself, NumPy inference and its shipped weights, is :mod:`tracker.motion.lstm`;
tracking never imports this package. Modules:

- :mod:`benchmarks.motion.train`: trains the model on KITTI and MOT17 ground-truth
  trajectories (``vtrack train-motion``, ``python -m benchmarks.motion.train``; needs
  ``pip install vtrack[lstm]`` for torch);
- :mod:`benchmarks.motion.evaluate`: box-prediction error of constant velocity, the Kalman
  filter and the LSTM on held-out sequences, and the LSTM's inference cost
  (``python -m benchmarks.motion.evaluate``).

Both read KITTI labels, MOT17 ground truth, ``seqinfo.ini`` and the public detections
through :mod:`tracker.formats`.
"""

"""Benchmark harness (``vtrack bench``): tracker backends on MOT benchmarks, scored by TrackEval.

Modules:

- :mod:`benchmarks.config`: :class:`~benchmarks.config.BenchmarkConfig`, one YAML file
  per benchmark in ``configs/`` (``bench_kitti.yaml``, ``bench_kitti_pointrcnn.yaml``,
  ``bench_mot17.yaml``, ``bench_mot17_dpm.yaml``, ``bench_mot17_sdp.yaml``,
  ``bench_mot17_yolox.yaml``, ``bench_mot17_mini_yolo.yaml``, ``bench_bdd100k_example.yaml``);
- :mod:`benchmarks.suite`: suites of benchmarks (``configs/suite.yaml``) for ``vtrack tune``;
- :mod:`benchmarks.datasets`: KITTI tracking and MOTChallenge layouts, frame ranges
  (the MOT17 validation half), and the cut ground truth TrackEval reads;
- :mod:`benchmarks.bdd100k`: the BDD100K MOT layout (Scalabel JSON), its results and
  the files TrackEval's ``BDD100K`` reads;
- :mod:`benchmarks.evaluate`: HOTA, DetA, AssA, MOTA, IDF1, IDSW from TrackEval's
  public API (``Kitti2DBox``, ``MotChallenge2DBox``, ``BDD100K``);
- :mod:`benchmarks.runner`: :func:`~benchmarks.runner.run_benchmark`, which feeds
  the detections of every frame to each backend, times ``update()``, writes results,
  resumes interrupted runs and writes the report (:mod:`benchmarks.report`);
- :mod:`benchmarks.peers`: roboflow ``trackers`` and ``boxmot`` trackers as optional
  backends (``rf-sort``, ``rf-bytetrack``, ``rf-ocsort``, ``boxmot-bytetrack``,
  ``boxmot-ocsort``, ``boxmot-botsort``);
- :mod:`benchmarks.motion`: training and evaluation of the LSTM motion model
  (``vtrack train-motion``);
- :mod:`benchmarks.tune` and :mod:`benchmarks.jobs`: ``vtrack tune``, grid search on one
  benchmark or a suite, one (backend, sequence) run per job in a process pool, the peers'
  scores cached on disk;
- :mod:`benchmarks.cli`: the command line (``vtrack bench``, ``python -m benchmarks.cli``).

Example::

    vtrack bench --benchmark configs/bench_kitti.yaml --trackers sort,rf-bytetrack --out runs/bench/kitti
"""

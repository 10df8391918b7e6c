"""Benchmark harness (``vtrack bench``): tracker backends on MOT benchmarks, scored by TrackEval."""

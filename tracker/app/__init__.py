"""The ``vtrack`` command-line application (video in, annotated video and MOTChallenge results out).

Not part of the ROS-free core: ``import tracker`` never imports this package. It uses
OpenCV for video I/O and drawing and :mod:`detectors` for detection.

Modules: :mod:`~tracker.app.cli` (the ``vtrack`` entry point and its subcommand table),
:mod:`~tracker.app.fleet` (``vtrack track``'s front: one source, or one job per source of
many, serially, in worker processes or on Ray), :mod:`~tracker.app.track` (one source: the
job), :mod:`~tracker.app.parallel` (worker processes and Ray tasks, also for ``vtrack
bench``), :mod:`~tracker.app.stages` (the threaded
pipeline ``vtrack track`` runs its stages in), :mod:`~tracker.app.sources` (video, frame
folder and camera readers), :mod:`~tracker.app.writers` (MOTChallenge and JSON-lines
files), :mod:`~tracker.app.render` (drawing, MP4 output), :mod:`~tracker.app.config`
(YAML config files), :mod:`~tracker.app.report` (summary and error lines).
"""

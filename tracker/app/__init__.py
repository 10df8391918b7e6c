"""The ``vtrack`` command-line application (video in, annotated video and MOTChallenge results out).

Not part of the ROS-free core: ``import tracker`` never imports this package. It uses
OpenCV for video I/O and drawing and :mod:`detectors` for detection.
"""

#!/usr/bin/env python3
"""vtrack as a ROS 2 node: ``vision_msgs/Detection2DArray`` detections in, tracked ``Detection2DArray`` out.

A thin rclpy shell: all message handling is :class:`tracker.ros2.node.TrackingHandler` (tested
without ROS). Every tracks message carries the header of the detections it was computed from;
``Detection2D.id`` is the track ID (unique per camera), ``results[0].hypothesis.class_id`` the
class (decimal id, or the detector's name when ``class_names`` are written), ``bbox`` in pixels.
Detections stamped not after the previous ones of their camera are dropped with a warning.

Parameters (``--ros-args -p name:=value``):

- ``tracker`` (string, ``default``): the tracker backend (``vtrack track --help`` lists them).
- ``config`` (string, empty): a YAML file of tracker settings (e.g. ``configs/sort.yaml``).
- ``detections_topic`` (string, ``detections``): the input ``vision_msgs/Detection2DArray``.
- ``tracks_topic`` (string, ``tracks``): the output ``vision_msgs/Detection2DArray``.
- ``image_topic`` (string, empty): the images the detections were computed from; when set,
  camera motion is compensated (OpenCV), matching images to detections by frame_id and stamp.
- ``compressed_image`` (bool, false): ``image_topic`` is ``sensor_msgs/CompressedImage``
  rather than ``sensor_msgs/Image``.
- ``per_frame_id`` (bool, true): one tracker per ``header.frame_id`` (camera); false: one for all.
- ``qos_depth`` (int, 10): the queue depth of the subscriptions and the publisher.

Run: ``python3 vtrack_node.py --ros-args -p tracker:=sort -p config:=configs/sort.yaml``
in a sourced ROS 2 environment with vtrack installed (see README.md next to this file).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from tracker.app.config import load_yaml
from tracker.config import ConfigError
from tracker.ros2.convert import MessageClasses, MessageError
from tracker.ros2.images import ImageError
from tracker.ros2.node import TrackingHandler

try:
    import rclpy
    from rclpy.node import Node
    from rosidl_runtime_py.utilities import get_message
    from sensor_msgs.msg import CompressedImage, Image
    from vision_msgs.msg import Detection2DArray
except ImportError as error:
    _MISSING: ImportError | None = error
    Node = object
else:
    _MISSING = None

logger = logging.getLogger("vtrack_node")

NODE_NAME = "vtrack"
EXIT_NO_ROS = 1
EXIT_BAD_INPUT = 2
DEFAULTS: dict[str, Any] = {
    "tracker": "default",
    "config": "",
    "detections_topic": "detections",
    "tracks_topic": "tracks",
    "image_topic": "",
    "compressed_image": False,
    "per_frame_id": True,
    "qos_depth": 10,
}


class TrackingNode(Node):
    """Subscribes to detections (and optionally images), publishes tracks; parameters in the module doc.

    Raises:
        tracker.ConfigError: the ``config`` file is missing or invalid (the message names it).
        ValueError: an unknown ``tracker``.
    """

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        params = {name: self.declare_parameter(name, value).value for name, value in DEFAULTS.items()}
        config = load_yaml(params["config"]) if params["config"] else {}
        image_topic = params["image_topic"]
        self.handler = TrackingHandler(
            MessageClasses.from_lookup(get_message),
            params["tracker"],
            config,
            per_frame_id=params["per_frame_id"],
            camera_motion=bool(image_topic),
        )
        depth = params["qos_depth"]
        self.detections_topic = params["detections_topic"]
        self.publisher = self.create_publisher(Detection2DArray, params["tracks_topic"], depth)
        self.create_subscription(Detection2DArray, self.detections_topic, self.on_detections, depth)
        if image_topic:
            image_type = CompressedImage if params["compressed_image"] else Image
            self.create_subscription(image_type, image_topic, self.handler.add_image, depth)
        self.get_logger().info(
            f"tracking {self.detections_topic} -> {params['tracks_topic']} with {params['tracker']}"
            + (f", camera motion from {image_topic}" if image_topic else "")
        )

    def on_detections(self, msg: Any) -> None:
        """Track one detections message and publish the tracks (nothing for a dropped message)."""
        try:
            tracks = self.handler.handle(msg)
        except (MessageError, ImageError) as error:
            self.get_logger().error(f"{self.detections_topic}: message skipped: {error}")
            return
        if tracks is not None:
            self.publisher.publish(tracks)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the node until Ctrl-C; returns the exit status (1: ROS 2 is not available; 2: a bad parameter)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    if _MISSING is not None:
        logger.error("needs a sourced ROS 2 environment with rclpy and vision_msgs: %s", _MISSING)
        return EXIT_NO_ROS
    rclpy.init(args=list(sys.argv if argv is None else argv))
    try:
        node = TrackingNode()
    except (ConfigError, ValueError) as error:
        logger.error("%s", error)
        rclpy.try_shutdown()
        return EXIT_BAD_INPUT
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        logger.info("stopped: %s", node.handler.stats)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

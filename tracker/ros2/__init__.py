"""The ROS 2 integration: ``vision_msgs`` conversion, rosbag2 input and output, and the node's message handling.

Not part of the ROS-free core: ``import tracker`` never imports this package, and
importing this package imports nothing but this docstring. Its modules:

- :mod:`tracker.ros2.convert`: ``vision_msgs/Detection2DArray`` <-> :class:`tracker.Detections` /
  :class:`tracker.Tracks`, ``builtin_interfaces/Time`` <-> nanoseconds and seconds. Imports neither
  rclpy nor rosbags nor OpenCV: the message classes are passed in (:class:`~tracker.ros2.convert.MessageClasses`),
  so the same code serves rclpy's classes in a node and rosbags' classes for bags.
- :mod:`tracker.ros2.images`: ``sensor_msgs/Image`` and ``sensor_msgs/CompressedImage`` -> BGR arrays.
- :mod:`tracker.ros2.node`: :class:`~tracker.ros2.node.TrackingHandler`, everything a tracking node does
  with a message, without ROS (the rclpy node in ``examples/ros2/`` is a thin shell around it).
- :mod:`tracker.ros2.bag`: rosbag2 files through ``rosbags`` (``pip install vtrack[ros]``): the
  ``vision_msgs`` types, a frame source reading images (``vtrack track BAG --image-topic``) and a
  writer of track messages (``--bag-out``).

The ``vision_msgs`` 4.x message definitions (the ROS 2 layout: ``bbox.center.position.x``,
``results[i].hypothesis.class_id``) are kept as data files in ``tracker/ros2/msg/``, so bags can be
read and written without a ROS installation.
"""

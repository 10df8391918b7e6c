"""A pipeline of worker threads joined by bounded queues, keeping the order of the items.

``vtrack track`` runs decoding, detection, camera motion + tracking and writing as
stages of one :class:`Pipeline`, so that decoding and writing overlap inference:
the heavy calls (video decoding in OpenCV, inference in torch or OpenVINO, H.264
encoding, optical flow) release Python's global interpreter lock while they work.

Each stage is one thread taking items from the queue before it and putting its
results on the queue after it, so items leave in the order they entered. Queues
hold at most ``queue_size`` items: a slow stage makes the ones before it wait
instead of filling memory. The last stage runs in the calling thread (:meth:`Pipeline.run`),
which is where Ctrl-C arrives and where a GUI window may be shown.

An exception in a stage travels down the queues behind the items that came before
it, and :meth:`Pipeline.run` raises it after the last stage has handled those items:
so the results of every frame before a bad one are written. Ctrl-C in the calling
thread stops every stage; items still in the queues are dropped.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Pipeline", "Stage", "StageTimes"]

_POLL_S = 0.1


@dataclass
class StageTimes:
    """Seconds a stage spent working (not waiting on its queues), and the items it handled.

    ``total_s`` is wall-clock time (``time.perf_counter``), which also counts waiting for
    a core or for the interpreter lock while other stages run; ``cpu_s`` is the CPU time
    of the stage's own thread (``time.thread_time``), which leaves out both, and also the
    worker threads a library starts (a detector's inference threads). ``first_s`` is the
    wall time of the first item (a detector's warm-up), kept apart.
    """

    items: int = 0
    first_s: float = 0.0
    total_s: float = 0.0
    cpu_s: float = 0.0

    def add(self, seconds: float, cpu_seconds: float = 0.0) -> None:
        """Count one item that took ``seconds`` of wall time and ``cpu_seconds`` of its thread's CPU time."""
        if self.items == 0:
            self.first_s = seconds
        self.total_s += seconds
        self.cpu_s += cpu_seconds
        self.items += 1

    def cpu_ms(self) -> float | None:
        """CPU milliseconds of the stage's thread per item, or None without items."""
        return self.cpu_s * 1000.0 / self.items if self.items else None

    def mean_ms(self, skip_first: bool = False) -> float | None:
        """Milliseconds per item (after the first with ``skip_first``), or None without items."""
        if skip_first:
            return (self.total_s - self.first_s) * 1000.0 / (self.items - 1) if self.items > 1 else None
        return self.total_s * 1000.0 / self.items if self.items else None


@dataclass(frozen=True)
class Stage:
    """One step: a name (for timings) and a function from the previous stage's item to this stage's item."""

    name: str
    function: Callable[[Any], Any]


class _Failure:
    """An exception raised in a stage, passed down the queues in place of an item."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


@dataclass
class Pipeline:
    """Runs ``source`` through ``stages`` (each in its own thread) into ``sink`` (in the calling thread).

    Args:
        stages: the worker steps, in order; each gets the previous one's result.
        queue_size: most items waiting between two stages.

    Attributes:
        times: :class:`StageTimes` per stage name, plus ``"source"`` (time spent
            producing each item from the iterable) and ``"sink"``.
    """

    stages: list[Stage]
    queue_size: int = 4
    times: dict[str, StageTimes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {self.queue_size}")
        names = ["source", *(stage.name for stage in self.stages), "sink"]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique and not 'source' or 'sink', got {names[1:-1]}")
        self.times = {name: StageTimes() for name in names}
        self._stop = threading.Event()

    def run(self, source: Iterable[Any], sink: Callable[[Any], None]) -> int:
        """Feed every item of ``source`` through the stages into ``sink``, in order.

        Returns:
            The number of items ``sink`` received.

        Raises:
            Whatever ``source``, a stage or ``sink`` raised (after ``sink`` got every
            item before the failing one); KeyboardInterrupt after stopping every stage.
        """
        queues: list[queue.Queue[Any]] = [queue.Queue(self.queue_size) for _ in range(len(self.stages) + 1)]
        threads = [threading.Thread(target=self._produce, args=(source, queues[0]), name="source", daemon=True)]
        for index, stage in enumerate(self.stages):
            threads.append(
                threading.Thread(
                    target=self._work, args=(stage, queues[index], queues[index + 1]), name=stage.name, daemon=True
                )
            )
        for thread in threads:
            thread.start()
        delivered = 0
        try:
            for item in self._drain(queues[-1]):
                start, cpu = time.perf_counter(), time.thread_time()
                sink(item)
                self.times["sink"].add(time.perf_counter() - start, time.thread_time() - cpu)
                delivered += 1
        finally:
            self._stop.set()
            for thread in threads:
                thread.join()
        return delivered

    def _drain(self, inbox: queue.Queue[Any]) -> Iterator[Any]:
        while True:
            item = self._get(inbox)
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def _get(self, inbox: queue.Queue[Any]) -> Any:
        while True:
            try:
                return inbox.get(timeout=_POLL_S)
            except queue.Empty:
                if self._stop.is_set():
                    return _END

    def _put(self, outbox: queue.Queue[Any], item: Any) -> bool:
        """Put ``item`` unless the pipeline stopped first; False when stopped."""
        while not self._stop.is_set():
            try:
                outbox.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, source: Iterable[Any], outbox: queue.Queue[Any]) -> None:
        times = self.times["source"]
        try:
            iterator = iter(source)
            while not self._stop.is_set():
                start, cpu = time.perf_counter(), time.thread_time()
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                times.add(time.perf_counter() - start, time.thread_time() - cpu)
                if not self._put(outbox, item):
                    return
        except BaseException as error:  # passed on to the calling thread, which raises it
            self._put(outbox, _Failure(error))
            return
        self._put(outbox, _END)

    def _work(self, stage: Stage, inbox: queue.Queue[Any], outbox: queue.Queue[Any]) -> None:
        times = self.times[stage.name]
        while True:
            item = self._get(inbox)
            if item is _END or isinstance(item, _Failure):
                self._put(outbox, item)
                return
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                result = stage.function(item)
            except BaseException as error:  # passed on to the calling thread, which raises it
                self._put(outbox, _Failure(error))
                return
            times.add(time.perf_counter() - start, time.thread_time() - cpu)
            if not self._put(outbox, result):
                return

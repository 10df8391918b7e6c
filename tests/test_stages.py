"""The threaded pipeline of ``vtrack track``: order kept, errors after the items before them, Ctrl-C stops it."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tracker.app.stages import Pipeline, Stage, StageTimes


def _jitter(value: int) -> int:
    time.sleep(random.Random(value).uniform(0, 0.004))
    return value


def test_items_arrive_in_order_through_stages_of_uneven_speed() -> None:
    pipeline = Pipeline([Stage("a", _jitter), Stage("b", lambda v: _jitter(v) * 10)], queue_size=2)
    received: list[int] = []
    assert pipeline.run(range(60), received.append) == 60
    assert received == [v * 10 for v in range(60)]
    for name in ("source", "a", "b", "sink"):
        assert pipeline.times[name].items == 60
    assert pipeline.times["a"].total_s > 0
    assert not [t for t in threading.enumerate() if t.name in ("source", "a", "b")]


def test_stages_overlap() -> None:
    """Two stages of 20 ms each take about 20 ms per item together, not 40."""

    def work(value: int) -> int:
        time.sleep(0.02)
        return value

    pipeline = Pipeline([Stage("a", work), Stage("b", work)])
    start = time.perf_counter()
    pipeline.run(range(20), lambda _: None)
    assert time.perf_counter() - start < 20 * 0.04 * 0.8


def test_a_stage_error_comes_after_the_items_before_it() -> None:
    def fail_at_five(value: int) -> int:
        if value == 5:
            raise ValueError("bad item 5")
        return value

    received: list[int] = []
    with pytest.raises(ValueError, match="bad item 5"):
        Pipeline([Stage("check", fail_at_five)]).run(range(10), received.append)
    assert received == [0, 1, 2, 3, 4]
    assert [t for t in threading.enumerate() if t.name == "check"] == []


def test_a_source_error_comes_after_the_items_before_it() -> None:
    def source():
        yield from range(3)
        raise OSError("frame 3 unreadable")

    received: list[int] = []
    with pytest.raises(OSError, match="frame 3"):
        Pipeline([Stage("same", lambda v: v)]).run(source(), received.append)
    assert received == [0, 1, 2]


def test_an_interrupt_in_the_sink_stops_every_stage() -> None:
    produced: list[int] = []

    def endless():
        value = 0
        while True:
            produced.append(value)
            yield value
            value += 1

    def sink(value: int) -> None:
        if value == 3:
            raise KeyboardInterrupt

    pipeline = Pipeline([Stage("a", lambda v: v), Stage("b", lambda v: v)], queue_size=2)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(endless(), sink)
    assert not [t for t in threading.enumerate() if t.name in ("source", "a", "b")]
    assert len(produced) < 3 + 3 * 2 + 4  # bounded queues: the source stopped a few items ahead


def test_stage_times() -> None:
    times = StageTimes()
    assert times.mean_ms() is None and times.mean_ms(skip_first=True) is None and times.cpu_ms() is None
    times.add(1.0, 0.5)
    times.add(0.2, 0.1)
    times.add(0.4, 0.3)
    assert times.mean_ms() == pytest.approx(1600 / 3)
    assert times.mean_ms(skip_first=True) == pytest.approx(300.0)
    assert times.cpu_ms() == pytest.approx(300.0)


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        Pipeline([], queue_size=0)
    with pytest.raises(ValueError, match="unique"):
        Pipeline([Stage("sink", lambda v: v)])

"""The prefetcher between a stream's reading thread and its consumer: order, the bound on how
far ahead it reads, the first element handed over at once, errors after what came before
them, and stopping."""

from __future__ import annotations

import threading
import time
from typing import Iterator, List

import pytest
from sluice.records import Prefetcher


def test_every_element_arrives_once_in_order_and_the_end_stays_the_end() -> None:
    prefetcher = Prefetcher(lambda: iter(range(1000)), window=64)
    assert list(prefetcher) == list(range(1000))
    with pytest.raises(StopIteration):
        next(prefetcher)
    assert list(Prefetcher(lambda: iter(()), window=64)) == []


def test_the_first_element_is_handed_over_before_the_source_gives_another() -> None:
    release = threading.Event()

    def source() -> Iterator[int]:
        yield 7
        release.wait()  # a stream that has nothing more yet
        yield 8

    prefetcher = Prefetcher(source, window=64)
    got: List[int] = []
    taker = threading.Thread(target=lambda: got.append(next(prefetcher)), daemon=True)
    taker.start()
    taker.join(timeout=5)
    assert got == [7], "the first element was held back waiting for a batch to fill"
    release.set()
    assert list(prefetcher) == [8]


@pytest.mark.parametrize("window", [1, 2, 64, 200])
def test_it_reads_ahead_no_further_than_its_window_and_a_batch(window: int) -> None:
    produced = []

    def source() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    prefetcher = Prefetcher(source, window=window)
    time.sleep(0.3)
    ahead = len(produced)
    # Beside the window: the batch being filled, the consumer's batch, and the element the
    # source gave that finds no room.
    batch = min(window, 16)
    assert batch <= ahead <= window + batch + 1, ahead
    assert [next(prefetcher) for _ in range(300)] == list(range(300))
    time.sleep(0.3)
    assert 300 <= len(produced) <= 300 + window + 2 * batch + 1
    prefetcher.close()


def test_an_error_is_raised_after_every_element_before_it() -> None:
    def source() -> Iterator[int]:
        yield from range(10)
        raise ValueError("the stream broke")

    prefetcher = Prefetcher(source, window=4)
    got = []
    with pytest.raises(ValueError, match="the stream broke"):
        for element in prefetcher:
            got.append(element)
    assert got == list(range(10))


def test_closing_stops_the_reading_thread() -> None:
    def source() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    prefetcher = Prefetcher(source, window=8)
    assert next(prefetcher) == 0
    prefetcher.close()
    prefetcher._thread.join(timeout=5)
    assert not prefetcher._thread.is_alive()

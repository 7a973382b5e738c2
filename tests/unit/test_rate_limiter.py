"""The send rate limiter on a fake clock: the rate holds over a run, stalls are made up, no flood."""

from __future__ import annotations

import itertools

import pytest
from licence_reminder import dispatch


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_holds_rate() -> None:
    clock = FakeClock()
    limiter = dispatch.RateLimiter(10, clock=clock, sleep=clock.advance)
    for _ in range(101):
        limiter.wait()
    assert clock.now == pytest.approx(10.0)


def test_rate_limiter_makes_up_for_a_callers_stalls() -> None:
    # 1 ms a call and 30 ms of bookkeeping every 200 calls, at 200/s: restarting the schedule
    # after each late call ran 3% slow; the fixed schedule catches up
    clock = FakeClock()
    limiter = dispatch.RateLimiter(200, clock=clock, sleep=clock.advance)
    starts = []
    for i in range(2000):
        limiter.wait()
        starts.append(clock.now)
        clock.advance(0.001 + (0.030 if i % 200 == 199 else 0.0))
    assert (len(starts) - 1) / (starts[-1] - starts[0]) == pytest.approx(200, rel=0.002)


def test_rate_limiter_does_not_flood_after_a_long_pause() -> None:
    clock = FakeClock()
    limiter = dispatch.RateLimiter(100, clock=clock, sleep=clock.advance, max_lag=0.05)
    starts = []
    for i in range(400):
        limiter.wait()
        starts.append(clock.now)
        if i == 99:
            clock.advance(5.0)
    back_to_back = sum(1 for a, b in itertools.pairwise(starts[100:]) if b == a)
    assert back_to_back <= 0.05 * 100
    busiest = max(sum(1 for t in starts if w <= t < w + 1.0) for w in starts)
    assert busiest <= (1 + 0.05) * 100 + 1

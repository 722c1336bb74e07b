from __future__ import annotations

import pytest

from lealta.channels.pacing import Pacer
from lealta.errors import InvalidInput


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_channel_is_held_to_its_rate_after_a_one_second_burst() -> None:
    clock = Clock()
    pacer = Pacer({"sms": 4}, monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(4):  # the burst
        assert pacer.wait("sms") == 0
    waits = [pacer.wait("sms") for _ in range(8)]
    assert waits == pytest.approx([0.25] * 8)
    assert clock.now == pytest.approx(102.0)  # 12 messages at 4/s after a burst of 4


def test_idle_time_refills_the_bucket_up_to_one_second_of_messages() -> None:
    clock = Clock()
    pacer = Pacer({"sms": 2}, monotonic=clock.monotonic, sleep=clock.sleep)
    pacer.wait("sms")
    pacer.wait("sms")
    clock.now += 60
    assert [pacer.wait("sms") for _ in range(3)] == pytest.approx([0, 0, 0.5])


def test_channels_without_a_limit_are_not_paced_and_limits_must_be_positive() -> None:
    clock = Clock()
    pacer = Pacer({"sms": 1}, monotonic=clock.monotonic, sleep=clock.sleep)
    assert all(pacer.wait("email") == 0 for _ in range(1000))
    assert clock.slept == []
    with pytest.raises(InvalidInput) as error:
        Pacer({"sms": 0})
    assert error.value.field == "channel_rate_limits"

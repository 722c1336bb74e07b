"""Sign-in throttling: five failures lock the key for the rest of the window."""

from __future__ import annotations

from lealta.console.throttle import SignInThrottle

KEYS = ("email:ana@example.com", "ip:10.0.0.1")


def test_five_failures_make_the_next_attempt_wait() -> None:
    throttle = SignInThrottle(attempts=5, window=900)
    for second in range(5):
        assert throttle.wait(KEYS, now=second) == 0
        throttle.failed(KEYS, now=second)
    assert throttle.wait(KEYS, now=10) == 900 - 10


def test_failures_leave_the_window() -> None:
    throttle = SignInThrottle(attempts=2, window=60)
    throttle.failed(KEYS, now=0)
    throttle.failed(KEYS, now=30)
    assert throttle.wait(KEYS, now=59) > 0
    assert throttle.wait(KEYS, now=61) == 0


def test_another_address_from_the_same_client_is_locked_too() -> None:
    throttle = SignInThrottle(attempts=1, window=60)
    throttle.failed(KEYS, now=0)
    assert throttle.wait(("email:bob@example.com", "ip:10.0.0.1"), now=1) > 0
    assert throttle.wait(("email:bob@example.com", "ip:10.0.0.2"), now=1) == 0


def test_a_success_forgets_the_failures() -> None:
    throttle = SignInThrottle(attempts=1, window=60)
    throttle.failed(KEYS, now=0)
    throttle.succeeded(KEYS)
    assert throttle.wait(KEYS, now=1) == 0

"""Figures remembered for as long as what they were computed from is unchanged.

A page whose figures take seconds at a million contacts but change only at known moments (an
RFM scoring, say) keeps them here under a key that names that moment: the key changes with the
data, so nothing is ever served stale and nothing needs clearing. One memo per
:class:`lealta.bootstrap.Services` (per process and store), the least recently used entries
dropped beyond ``size``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    """A small, thread-safe, least-recently-used map from keys to computed values."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value remembered under ``key``, else ``compute()`` remembered under it."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                found: T = self._values[key]
                return found
        value = compute()  # outside the lock: two first readers may both compute, harmlessly
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)

"""Lealta's one exception tree.

::

    LealtaError                      base of everything Lealta raises on purpose
    ├── InvalidInput                 the caller's data or options are wrong (names field/line)
    │   ├── MissingColumn            a required column is absent from an input file
    │   └── UnreadableFile           empty, wrong encoding, unknown format, not found
    ├── NotFound                     a named thing (segment, contact …) does not exist
    ├── Conflict                     the request contradicts existing state
    └── ChannelError                 a delivery channel failed
        ├── TransientChannelError    worth retrying later
        └── PermanentChannelError    retrying will not help

Adapters (CLI, API) map these to exit codes and HTTP statuses in one place each; anything
else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class LealtaError(Exception):
    """Base class of every error Lealta raises deliberately."""


class InvalidInput(LealtaError):
    """The caller's data or options are wrong.

    ``field`` names the offending option, column or attribute; ``line`` the input line, if any;
    ``details`` the validation errors behind the message, when pydantic found them (each with
    its ``type``, ``loc`` and ``ctx``), so that an interface can word each in its own terms.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        line: int | None = None,
        details: Sequence[Mapping[str, Any]] = (),
    ):
        super().__init__(message)
        self.field = field
        self.line = line
        self.details = tuple(details)


class MissingColumn(InvalidInput):
    """A column the computation needs is not in the input."""


class UnreadableFile(InvalidInput):
    """A file cannot be read at all: missing, empty, wrong encoding or unknown format."""


class NotFound(LealtaError):
    """A named thing does not exist."""


class Conflict(LealtaError):
    """The request contradicts existing state."""


class ChannelError(LealtaError):
    """A delivery channel failed."""


class TransientChannelError(ChannelError):
    """A delivery failure worth retrying later."""


class PermanentChannelError(ChannelError):
    """A delivery failure that retrying will not fix."""

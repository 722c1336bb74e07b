"""What comes back from sent messages: opens, clicks, unsubscribes, survey answers, bounces,
complaints and conversions (:mod:`lealta.feedback.service`), and the suppression list
(:mod:`lealta.feedback.suppressions`)."""

from lealta.feedback.service import record
from lealta.feedback.suppressions import is_suppressed, suppress, unsuppress

__all__ = ["is_suppressed", "record", "suppress", "unsuppress"]

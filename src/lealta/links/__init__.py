"""Signed links in messages: tracked clicks, the open pixel, unsubscribe, preferences, surveys."""

from lealta.links.signing import Claims, Links

__all__ = ["Claims", "Links"]

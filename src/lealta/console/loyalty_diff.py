"""What changed between two versions of the loyalty programme, in sentences and as a YAML diff
(the same presentation as a journey's versions, :mod:`lealta.console.versions_diff`). Pure."""

from __future__ import annotations

import difflib

from lealta.console import loyalty_words as words
from lealta.console.loyalty_yaml import to_yaml
from lealta.loyalty.program import LoyaltyProgram


def changes(older: LoyaltyProgram, newer: LoyaltyProgram) -> list[str]:
    """The changes from ``older`` to ``newer``, one sentence each."""
    found: list[str] = []
    if older.name != newer.name:
        found.append(f"Renamed from “{older.name}” to “{newer.name}”")
    if older.eligibility != newer.eligibility:
        found.append(
            f"Eligibility changed from “{words.eligibility(older)}” to “{words.eligibility(newer)}”"
        )
    for name in ("best", "dimensions", "levels", "window_days", "currency"):
        was, now = getattr(older, name), getattr(newer, name)
        if was != now:
            found.append(f"{name.replace('_', ' ').capitalize()} changed from {was} to {now}")
    before = {t.name: t for t in older.tiers}
    after = {t.name: t for t in newer.tiers}
    for tier in newer.tiers:
        was = before.get(tier.name)
        if was is None:
            found.append(f"Tier {tier.name} added: {words.qualify(tier, newer)}")
            continue
        if words.qualify(was, older) != words.qualify(tier, newer):
            found.append(
                f"Tier {tier.name}: rule changed from “{words.qualify(was, older)}” to "
                f"“{words.qualify(tier, newer)}”"
            )
        if was.benefits != tier.benefits:
            gone = [b.code for b in was.benefits if b not in tier.benefits]
            new = [b.code for b in tier.benefits if b not in was.benefits]
            parts = ([f"added {', '.join(new)}"] if new else []) + (
                [f"removed {', '.join(gone)}"] if gone else []
            )
            found.append(f"Tier {tier.name}: benefits {' and '.join(parts) or 'reordered'}")
        if was.description != tier.description:
            found.append(f"Tier {tier.name}: description changed")
    found.extend(f"Tier {name} removed" for name in before if name not in after)
    kept_before = [n for n in before if n in after]
    kept_after = [n for n in after if n in before]
    if kept_before != kept_after:
        found.append("Tiers put in a new order")
    if older.status != newer.status:
        found.append("Status rules changed: " + " ".join(words.status(newer.status)))
    if older.benefits_accumulate != newer.benefits_accumulate:
        found.append(
            "Higher tiers now also give the benefits of the tiers below"
            if newer.benefits_accumulate
            else "Higher tiers no longer give the benefits of the tiers below"
        )
    if older.description != newer.description:
        found.append("Description changed")
    return found


def unified(older: LoyaltyProgram, newer: LoyaltyProgram, older_name: str, newer_name: str) -> str:
    """The unified diff of the two versions' YAML (empty when they are the same)."""
    lines = difflib.unified_diff(
        to_yaml(older).splitlines(keepends=True),
        to_yaml(newer).splitlines(keepends=True),
        fromfile=older_name,
        tofile=newer_name,
    )
    return "".join(lines)

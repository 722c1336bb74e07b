"""Loyalty programme: status tiers earned by RFM, orders or spend, with benefits, as data."""

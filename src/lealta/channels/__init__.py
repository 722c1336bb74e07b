"""Channels: the outbox of decided sends, the channel protocol, and the channels themselves."""

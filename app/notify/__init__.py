"""Notifications: which changes tell whom (triggers), writing the outbox, sending it, preferences, links."""

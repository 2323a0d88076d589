"""Notifications: the outbox written in each command's transaction, the messages, the worker."""

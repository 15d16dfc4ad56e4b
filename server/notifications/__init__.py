"""Outgoing mail: the outbox written by the other domains and the worker that sends it."""

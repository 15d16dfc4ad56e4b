"""Registrations: seats, waiting lists, double opt-in, self-service through a manage token."""

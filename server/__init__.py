"""Zesummen: events, registrations, reminders and calendar feeds for an intercultural agency."""

"""Organisations, staff accounts, their roles and bearer tokens."""

"""Communes: their requests to the agency, and their calendars."""

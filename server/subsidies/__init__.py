"""Subsidy requests of associations to the Department of Integration (issue 26)."""

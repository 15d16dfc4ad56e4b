"""Events: web conferences, conversation tables and information sessions, single or in a series."""

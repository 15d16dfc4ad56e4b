"""Development tooling: the private PostgreSQL and the demo programme; not part of the running service."""

"""The interpretation service: a pool of interpreters, missions, offers, and assignments that never collide."""

"""What domains built on events do inside an event's own transaction.

Events must not import the domains above them (registrations seat people, communes follow their
requests), so those register here when imported and events call them without knowing who they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from server.settings import Settings

# (conn, event id, series id) after a draft is published
AFTER_PUBLISH: list[Callable[[asyncpg.Connection, int, int | None], Awaitable[None]]] = []
# (conn, event id, settings) after the capacity changed
AFTER_CAPACITY_CHANGE: list[Callable[[asyncpg.Connection, int, Settings], Awaitable[None]]] = []


def after_publish(hook):
    """Register a hook run after a draft is published."""
    AFTER_PUBLISH.append(hook)
    return hook


def after_capacity_change(hook):
    """Register a hook run after an event's capacity changed."""
    AFTER_CAPACITY_CHANGE.append(hook)
    return hook

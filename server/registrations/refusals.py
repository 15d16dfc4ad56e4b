"""Why a registration is refused: one error class per reason, each with its HTTP status."""

from __future__ import annotations

from server.errors import Conflict, Invalid, NotFound, ServiceUnavailable, TooManyRequests


class EventNotFound(NotFound):
    code = "event_not_found"


class EventCancelled(Conflict):
    code = "event_cancelled"


class RegistrationNotOpen(Conflict):
    code = "registration_not_open"


class RegistrationClosed(Conflict):
    code = "registration_closed"


class ConsentRequired(Invalid):
    code = "consent_required"


class CommuneUnknown(Invalid):
    code = "commune_unknown"


class RateLimited(TooManyRequests):
    code = "rate_limited"


class TokenUnknown(NotFound):
    code = "token_unknown"


class HoldExpired(Conflict):
    code = "hold_expired"


class RegistrationCancelled(Conflict):
    code = "registration_cancelled"


class EventFull(Conflict):
    code = "event_full"


class EventBusy(ServiceUnavailable):
    code = "busy"

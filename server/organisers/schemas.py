"""Structs in and out of the organiser account endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server import validation
from server.i18n import Language

Role = Literal["admin", "organiser", "viewer"]
Email = validation.Email
Slug = validation.Slug


class Organiser(msgspec.Struct, frozen=True):
    """The authenticated staff member and what they may touch."""

    id: int
    email: str
    name: str
    is_admin: bool
    roles: dict[int, str]

    def can_read(self, organisation_id: int) -> bool:
        """Any role in the organisation, or administrator."""
        return self.is_admin or organisation_id in self.roles

    def can_write(self, organisation_id: int) -> bool:
        """An admin or organiser role in the organisation, or administrator."""
        return self.is_admin or self.roles.get(organisation_id) in ("admin", "organiser")

    def can_manage(self, organisation_id: int) -> bool:
        """An admin role in the organisation, or administrator."""
        return self.is_admin or self.roles.get(organisation_id) == "admin"


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    """Email and password."""

    email: Email
    password: Annotated[str, Meta(min_length=1, max_length=1000)]


class TokenOut(msgspec.Struct):
    """A fresh bearer token: shown once, stored only as a hash."""

    token: str
    expires_at: datetime


class OrganisationOut(msgspec.Struct):
    """An organisation as shown on events."""

    slug: str
    name: str


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new organisation (administrators only)."""

    slug: Slug
    name: Annotated[str, Meta(min_length=1, max_length=200)]


class MembershipIn(msgspec.Struct, forbid_unknown_fields=True):
    """A role in one organisation."""

    organisation: Slug
    role: Role


class OrganiserIn(msgspec.Struct, forbid_unknown_fields=True):
    """A staff account to create, or people to add to organisations (kept for older clients: see InvitationIn)."""

    email: Email
    name: Annotated[str, Meta(max_length=200)] = ""
    memberships: Annotated[list[MembershipIn], Meta(max_length=50)] = []
    password: Annotated[
        str | UnsetType,
        Meta(
            description="Refused with 422 when sent: nobody sets another person's password. A new account gets an "
            "invitation mail whose link lets its owner choose it (as `POST /api/organiser/invitations`)."
        ),
    ] = UNSET


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A person to invite to organisations; a new account's owner gets a mail to choose a password."""

    email: Email
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    memberships: Annotated[list[MembershipIn], Meta(max_length=50)] = []
    language: Language = "fr"


class InvitationOut(msgspec.Struct):
    """The account after the invitation: its roles, and whether a mail with a link went out."""

    id: int
    email: str
    name: str
    memberships: list[MembershipIn]
    invitation_sent: bool
    invitation_expires_at: datetime | None


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    """One's own new password, proven by the current one."""

    current_password: Annotated[str, Meta(min_length=1, max_length=1000)]
    new_password: Annotated[str, Meta(min_length=12, max_length=1000, description="At least 12 characters")]


class OrganiserOut(msgspec.Struct):
    """A staff account."""

    id: int
    email: str
    name: str
    memberships: list[MembershipIn]

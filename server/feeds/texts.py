"""What the feeds call themselves in a calendar app's list (X-WR-CALNAME, X-WR-CALDESC), in five languages.

The words are in the catalogs (server/i18n.py); these tables are their view by language code.
"""

from __future__ import annotations

from server.i18n import N_, in_every_language

# the feed of every published event, and of a filtered selection of them
ALL_EVENTS_NAME = in_every_language(N_("Zesummen – events calendar"))
ALL_EVENTS_DESCRIPTION = in_every_language(
    N_(
        "Web conferences, conversation tables and information sessions of the intercultural agency and its partner "
        "associations in Luxembourg."
    )
)

# one organisation's feed; {name} is the organisation's name as it writes it (filled with str.format)
ORGANISATION_NAME = in_every_language(N_("{name} – Zesummen"))
ORGANISATION_DESCRIPTION = in_every_language(
    N_("Events of the organisation {name}: web conferences, conversation tables and information sessions.")
)

# a person's own feed, behind the link of their registration
PERSONAL_NAME = in_every_language(N_("My registrations – Zesummen"))
PERSONAL_DESCRIPTION = in_every_language(
    N_(
        "The events your registration is confirmed for, with the link to join web conferences. This link is personal: "
        "please do not share it."
    )
)

"""What the feeds call themselves in a calendar app's list (X-WR-CALNAME, X-WR-CALDESC), in five languages."""

from __future__ import annotations

# the feed of every published event, and of a filtered selection of them
ALL_EVENTS_NAME = {
    "fr": "Zesummen – agenda des événements",
    "de": "Zesummen – Veranstaltungskalender",
    "lb": "Zesummen – Kalenner vun den Evenementer",
    "en": "Zesummen – events calendar",
    "pt": "Zesummen – agenda de eventos",
}
ALL_EVENTS_DESCRIPTION = {
    "fr": "Web-conférences, tables de conversation et séances d'information de l'agence interculturelle "
          "et de ses associations partenaires au Luxembourg.",
    "de": "Webkonferenzen, Gesprächsrunden und Informationsveranstaltungen der interkulturellen Agentur "
          "und ihrer Partnervereine in Luxemburg.",
    "lb": "Webkonferenzen, Konversatiounsdëscher an Informatiounsversammlunge vun der interkultureller "
          "Agence an hire Partnerassociatiounen zu Lëtzebuerg.",
    "en": "Web conferences, conversation tables and information sessions of the intercultural agency "
          "and its partner associations in Luxembourg.",
    "pt": "Webconferências, mesas de conversação e sessões de informação da agência intercultural "
          "e das associações parceiras no Luxemburgo.",
}

# one organisation's feed; {name} is the organisation's name as it writes it
ORGANISATION_NAME = {lang: "{name} – Zesummen" for lang in ("fr", "de", "lb", "en", "pt")}
ORGANISATION_DESCRIPTION = {
    "fr": "Les événements de l'organisation {name} : web-conférences, tables de conversation et séances d'information.",
    "de": "Die Veranstaltungen der Organisation {name}: Webkonferenzen, Gesprächsrunden und Informationsveranstaltungen.",
    "lb": "D'Evenementer vun der Organisatioun {name}: Webkonferenzen, Konversatiounsdëscher an Informatiounsversammlungen.",
    "en": "Events of the organisation {name}: web conferences, conversation tables and information sessions.",
    "pt": "Os eventos da organização {name}: webconferências, mesas de conversação e sessões de informação.",
}

# a person's own feed, behind the manage link's token
PERSONAL_NAME = {
    "fr": "Mes inscriptions – Zesummen",
    "de": "Meine Anmeldungen – Zesummen",
    "lb": "Meng Umeldungen – Zesummen",
    "en": "My registrations – Zesummen",
    "pt": "As minhas inscrições – Zesummen",
}
PERSONAL_DESCRIPTION = {
    "fr": "Les événements pour lesquels votre inscription est confirmée, avec le lien pour rejoindre les "
          "web-conférences. Ce lien est personnel : ne le partagez pas.",
    "de": "Die Veranstaltungen, für die Ihre Anmeldung bestätigt ist, mit dem Zugangslink zu den "
          "Webkonferenzen. Dieser Link ist persönlich: Bitte geben Sie ihn nicht weiter.",
    "lb": "D'Evenementer, fir déi Är Umeldung confirméiert ass, mam Link, fir bei de Webkonferenzen "
          "derbäi ze sinn. Dëse Link ass perséinlech: Gitt en w.e.g. net weider.",
    "en": "The events your registration is confirmed for, with the link to join web conferences. "
          "This link is personal: please do not share it.",
    "pt": "Os eventos para os quais a sua inscrição está confirmada, com a ligação para participar nas "
          "webconferências. Esta ligação é pessoal: não a partilhe.",
}

"""What registrations say to people, in the five languages: the 202 answer and the CSV export."""

from __future__ import annotations

# the 202 answer, by what the request got (one date) or "series" (several dates)
ACCEPTED = {
    "pending": {
        "fr": "Merci ! Nous vous avons envoyé un e-mail : confirmez votre adresse avec le lien qu'il contient pour garder votre place.",
        "de": "Danke! Wir haben Ihnen eine E-Mail geschickt: Bestätigen Sie Ihre Adresse über den Link darin, damit Ihr Platz reserviert bleibt.",
        "lb": "Merci! Mir hunn Iech eng E-Mail geschéckt: Confirméiert Är Adress mam Link dran, fir datt Är Plaz reservéiert bleift.",
        "en": "Thank you! We have sent you an email: confirm your address with the link in it to keep your seat.",
        "pt": "Obrigado! Enviámos-lhe um e-mail: confirme o seu endereço com a ligação que contém para guardar o seu lugar.",
    },
    "confirmed": {
        "fr": "Merci, votre inscription est enregistrée ! Vous recevrez un e-mail avec tous les détails.",
        "de": "Danke, Ihre Anmeldung ist eingegangen! Sie erhalten eine E-Mail mit allen Einzelheiten.",
        "lb": "Merci, Är Umeldung ass ukomm! Dir kritt eng E-Mail mat allen Detailer.",
        "en": "Thank you, your registration has been received! You will get an email with all the details.",
        "pt": "Obrigado, a sua inscrição foi registada! Vai receber um e-mail com todos os pormenores.",
    },
    "waitlisted": {
        "fr": "L'événement est complet : vous êtes sur la liste d'attente. Nous vous écrirons dès qu'une place se libère.",
        "de": "Die Veranstaltung ist ausgebucht: Sie stehen auf der Warteliste. Wir schreiben Ihnen, sobald ein Platz frei wird.",
        "lb": "D'Evenement ass ausgebucht: Dir steet op der Waardelëscht. Mir schreiwen Iech, soubal eng Plaz fräi gëtt.",
        "en": "The event is full: you are on the waiting list. We will write to you as soon as a seat becomes free.",
        "pt": "O evento está esgotado: está na lista de espera. Escrevemos-lhe assim que vagar um lugar.",
    },
    "series": {
        "fr": "Merci ! Nous vous avons envoyé un e-mail avec chaque date et l'état de votre inscription.",
        "de": "Danke! Wir haben Ihnen eine E-Mail mit jedem Termin und dem Stand Ihrer Anmeldung geschickt.",
        "lb": "Merci! Mir hunn Iech eng E-Mail mat all Datum an dem Stand vun Ärer Umeldung geschéckt.",
        "en": "Thank you! We have sent you an email listing each date and where your registration stands.",
        "pt": "Obrigado! Enviámos-lhe um e-mail com cada data e o estado da sua inscrição.",
    },
}

CSV_COLUMNS = ("id", "name", "email", "language", "status", "waitlist_position", "attendance", "commune",
               "interpretation", "accessibility", "source", "registered_at", "confirmed_at", "cancelled_at")

CSV_HEADERS = {
    "fr": ("N°", "Nom", "E-mail", "Langue", "Statut", "Rang sur la liste d'attente", "Présence", "Commune",
           "Interprétation", "Besoins d'accessibilité", "Origine", "Inscrit le", "Confirmé le", "Annulé le"),
    "de": ("Nr.", "Name", "E-Mail", "Sprache", "Status", "Platz auf der Warteliste", "Anwesenheit", "Gemeinde",
           "Dolmetschen", "Barrierefreiheit", "Herkunft", "Angemeldet am", "Bestätigt am", "Abgesagt am"),
    "lb": ("Nr.", "Numm", "E-Mail", "Sprooch", "Status", "Plaz op der Waardelëscht", "Presenz", "Gemeng",
           "Dolmetschen", "Accessibilitéit", "Hierkonft", "Ugemellt den", "Confirméiert den", "Ofgesot den"),
    "en": ("No.", "Name", "Email", "Language", "Status", "Waiting list position", "Attendance", "Commune",
           "Interpretation", "Accessibility needs", "Source", "Registered at", "Confirmed at", "Cancelled at"),
    "pt": ("N.º", "Nome", "E-mail", "Língua", "Estado", "Posição na lista de espera", "Presença", "Município",
           "Interpretação", "Necessidades de acessibilidade", "Origem", "Inscrito em", "Confirmado em", "Cancelado em"),
}

# values of the status, attendance and source columns
CSV_VALUES = {
    "pending": {"fr": "à confirmer", "de": "Bestätigung ausstehend", "lb": "nach net confirméiert", "en": "awaiting confirmation", "pt": "por confirmar"},
    "confirmed": {"fr": "confirmé", "de": "bestätigt", "lb": "confirméiert", "en": "confirmed", "pt": "confirmado"},
    "waitlisted": {"fr": "liste d'attente", "de": "Warteliste", "lb": "Waardelëscht", "en": "waiting list", "pt": "lista de espera"},
    "cancelled": {"fr": "annulé", "de": "abgesagt", "lb": "ofgesot", "en": "cancelled", "pt": "cancelado"},
    "expired": {"fr": "expiré", "de": "abgelaufen", "lb": "ofgelaf", "en": "expired", "pt": "expirado"},
    "present": {"fr": "présent", "de": "anwesend", "lb": "present", "en": "present", "pt": "presente"},
    "absent": {"fr": "absent", "de": "abwesend", "lb": "net do", "en": "absent", "pt": "ausente"},
    "excused": {"fr": "excusé", "de": "entschuldigt", "lb": "entschëllegt", "en": "excused", "pt": "justificado"},
    "public": {"fr": "en ligne", "de": "online", "lb": "online", "en": "online", "pt": "online"},
    "organiser": {"fr": "ajouté par l'équipe", "de": "vom Team eingetragen", "lb": "vun der Equipe agedroen", "en": "added by staff", "pt": "adicionado pela equipa"},
}

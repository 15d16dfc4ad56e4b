"""Demo organisations and events (the intercultural agency's real programme), dated from a given day."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.events.schemas import EventIn
from server.events.service import create_event, publish_event
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.settings import Settings

TIMEZONE = "Europe/Luxembourg"
_ZONE = ZoneInfo(TIMEZONE)

DEMO_ORGANISATIONS: list[dict[str, str]] = [
    {"slug": "asti", "name": "ASTI – Association de soutien aux travailleurs immigrés"},
    {"slug": "clae", "name": "CLAE – Comité de liaison des associations d'étrangers"},
    {"slug": "cefis", "name": "CEFIS – Centre d'étude et de formation interculturelles et sociales"},
    {"slug": "caritas", "name": "Caritas Luxembourg"},
]

MONDAY, TUESDAY, WEDNESDAY, THURSDAY = 0, 1, 2, 3
SERIES_COUNT = 12

# ---------------------------------------------------------------------------- dates


def _easter(year: int) -> dt.date:
    """Easter Sunday (Gregorian computus, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def public_holidays(year: int) -> set[dt.date]:
    """Luxembourg's eleven legal public holidays of a year (Europe Day since 2019)."""
    easter = _easter(year)
    return {
        dt.date(year, 1, 1),
        easter + dt.timedelta(days=1),  # Easter Monday
        dt.date(year, 5, 1),
        dt.date(year, 5, 9),  # Europe Day
        easter + dt.timedelta(days=39),  # Ascension
        easter + dt.timedelta(days=50),  # Whit Monday
        dt.date(year, 6, 23),  # National Day
        dt.date(year, 8, 15),
        dt.date(year, 11, 1),
        dt.date(year, 12, 25),
        dt.date(year, 12, 26),
    }


def _is_day_off(day: dt.date) -> bool:
    # the associations close between Christmas Eve and New Year's Day
    christmas_break = (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1)
    return christmas_break or day in public_holidays(day.year)


def _next_weekday(after: dt.date, weekday: int) -> dt.date:
    """The first given weekday strictly after `after` (1 to 7 days later)."""
    return after + dt.timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _working(day: dt.date) -> dt.date:
    """The same weekday a week later, as often as needed, when the day is a holiday."""
    while _is_day_off(day):
        day += dt.timedelta(days=7)
    return day


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    # never in the 02:00-03:00 DST gap, so the wall-clock time always exists
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_ZONE)


def _span(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> dict[str, str]:
    return {"starts_at": _at(day, *start).isoformat(), "ends_at": _at(day, *end).isoformat()}


def _weekly(first: dt.date, start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    """Times and recurrence of a weekly series; holidays and the Christmas break are left out."""
    days = [first + dt.timedelta(weeks=n) for n in range(SERIES_COUNT)]
    skipped = [d for d in days if _is_day_off(d)]
    if not skipped:
        # no holiday in these twelve weeks: the facilitators still take one week off half-way, so
        # that every demo series shows an exception
        skipped = [days[SERIES_COUNT // 2]]
    # an exdate is the exact local start of the occurrence it removes (RFC 5545 EXDATE)
    return {
        **_span(first, start, end),
        "recurrence": {
            "rrule": f"FREQ=WEEKLY;COUNT={SERIES_COUNT}",
            "exdates": [_at(d, *start).isoformat() for d in skipped],
        },
    }


# ---------------------------------------------------------------------------- texts

_LUNCH = ((12, 15), (13, 45))
_EVENING = ((18, 30), (20, 0))

_PT_SECOND_GENERATION = {
    "title": {
        "fr": "Les Portugais de « seconde génération » au Luxembourg : leurs sentiments d'appartenance au cours de la vie",
        "pt": "Os portugueses de «segunda geração» no Luxemburgo: os seus sentimentos de pertença ao longo da vida",
        "de": "Portugiesen der „zweiten Generation“ in Luxemburg: ihr Zugehörigkeitsgefühl im Laufe des Lebens",
        "lb": "D'Portugisen aus der „zweeter Generatioun“ zu Lëtzebuerg: hiert Gefill vun Zougehéieregkeet am Laf vum Liewen",
        "en": "Second-generation Portuguese in Luxembourg: their sense of belonging over the life course",
    },
    "summary": {
        "fr": "Les Portugais de « seconde génération » se sentent-ils faire partie du Luxembourg ? Parler de leur intégration est une question cruciale pour le pays.",
        "pt": "Os portugueses de «segunda geração» sentem que fazem parte do Luxemburgo? Falar da sua integração é uma questão crucial para o país.",
        "de": "Fühlen sich Portugiesen der „zweiten Generation“ als Teil Luxemburgs? Über ihre Integration zu sprechen, ist eine zentrale Frage für das Land.",
        "lb": "Fille sech d'Portugisen aus der „zweeter Generatioun“ als Deel vu Lëtzebuerg? Iwwer hir Integratioun ze schwätzen, ass eng zentral Fro fir d'Land.",
        "en": "Do second-generation Portuguese feel part of Luxembourg? Talking about their integration is a crucial question for the country.",
    },
    "description": {
        "fr": (
            "Parler de l'intégration des Portugais de « seconde génération », nés au Luxembourg ou arrivés enfants, "
            "est une question cruciale pour le pays. Comment leur sentiment d'appartenance se construit-il et évolue-t-il "
            "au fil de la vie : à l'école, au travail, en fondant une famille ? La présentation, en français, est suivie "
            "d'un échange avec le public. Le lien de connexion est envoyé aux personnes inscrites une fois leur adresse "
            "e-mail confirmée."
        ),
        "pt": (
            "Falar da integração dos portugueses de «segunda geração», nascidos no Luxemburgo ou chegados ainda crianças, "
            "é uma questão crucial para o país. Como se constrói e evolui o seu sentimento de pertença ao longo da vida: "
            "na escola, no trabalho, ao constituir família? A apresentação, em francês, é seguida de um debate com o "
            "público. O link de acesso é enviado às pessoas inscritas depois de confirmarem o seu endereço de e-mail."
        ),
        "de": (
            "Über die Integration der Portugiesen der „zweiten Generation“ zu sprechen – in Luxemburg geboren oder als "
            "Kinder gekommen –, ist für das Land eine zentrale Frage. Wie entsteht ihr Zugehörigkeitsgefühl, und wie "
            "verändert es sich im Laufe des Lebens: in der Schule, im Beruf, bei der Familiengründung? Auf den Vortrag "
            "auf Französisch folgt ein Austausch mit dem Publikum. Den Zugangslink erhalten Angemeldete, sobald sie ihre "
            "E-Mail-Adresse bestätigt haben."
        ),
        "lb": (
            "Iwwer d'Integratioun vun de Portugisen aus der „zweeter Generatioun“ ze schwätzen – hei gebuer oder als "
            "Kand komm –, ass eng zentral Fro fir d'Land. Wéi entsteet d'Gefill, dozouzegehéieren, a wéi ännert et "
            "sech am Laf vum Liewen: an der Schoul, op der Aarbecht, wann een eng Famill grënnt? Nom Virtrag op "
            "Franséisch gëtt et en Austausch mam Publikum. De Link kréien déi ugemellt Leit, soubal se hir "
            "E-Mail-Adress bestätegt hunn."
        ),
        "en": (
            "Talking about the integration of second-generation Portuguese – born in Luxembourg or arrived as "
            "children – is a crucial question for the country. How does their sense of belonging take shape and "
            "change over the course of life: at school, at work, when starting a family? The talk, in French, is "
            "followed by a discussion with the audience. Registered participants receive the link once they have "
            "confirmed their email address."
        ),
    },
}

_MIPEX_PRESS = {
    "title": {
        "fr": "Conférence de presse : présentation des résultats du MIPEX 2020 pour le Luxembourg",
        "de": "Pressekonferenz: Vorstellung der Ergebnisse des MIPEX 2020 für Luxemburg",
        "lb": "Pressekonferenz: Presentatioun vun de Resultater vum MIPEX 2020 fir Lëtzebuerg",
        "en": "Press conference: presentation of the MIPEX 2020 results for Luxembourg",
    },
    "summary": {
        "fr": "Réservée aux journalistes : les résultats du MIPEX 2020 pour le Luxembourg, présentés avant la web-conférence publique de 12 h 15.",
        "de": "Nur für Journalistinnen und Journalisten: die MIPEX-2020-Ergebnisse für Luxemburg, vor der öffentlichen Webkonferenz um 12:15 Uhr.",
        "lb": "Just fir Journalisten: d'Resultater vum MIPEX 2020 fir Lëtzebuerg, virun der ëffentlecher Webkonferenz um 12:15 Auer.",
        "en": "For journalists only: the MIPEX 2020 results for Luxembourg, ahead of the public web conference at 12:15.",
    },
    "description": {
        "fr": (
            "Les résultats du MIPEX 2020 (Migrant Integration Policy Index) pour le Luxembourg sont présentés à la "
            "presse en présence d'un responsable du Migration Policy Group (MPG). L'indice compare les politiques "
            "d'intégration de 56 pays dans huit domaines, de l'accès au marché de l'emploi à la participation "
            "politique. Les journalistes peuvent poser leurs questions avant la web-conférence publique de midi. "
            "Inscription réservée aux représentants des médias."
        ),
        "de": (
            "Die Ergebnisse des MIPEX 2020 (Migrant Integration Policy Index) für Luxemburg werden der Presse im "
            "Beisein eines Vertreters der Migration Policy Group (MPG) vorgestellt. Der Index vergleicht die "
            "Integrationspolitik von 56 Ländern in acht Bereichen, vom Zugang zum Arbeitsmarkt bis zur politischen "
            "Teilhabe. Journalistinnen und Journalisten können ihre Fragen vor der öffentlichen Webkonferenz am "
            "Mittag stellen. Die Anmeldung ist Medienvertretern vorbehalten."
        ),
        "en": (
            "The MIPEX 2020 (Migrant Integration Policy Index) results for Luxembourg are presented to the press "
            "with a representative of the Migration Policy Group (MPG). The index compares integration policies in "
            "56 countries across eight areas, from access to the labour market to political participation. "
            "Journalists can put their questions before the public web conference at lunchtime. Registration is "
            "reserved for members of the media."
        ),
    },
}

_MIPEX_PUBLIC = {
    "title": {
        "fr": "Présentation des résultats du MIPEX 2020 pour le Luxembourg",
        "de": "Vorstellung der Ergebnisse des MIPEX 2020 für Luxemburg",
        "lb": "Presentatioun vun de Resultater vum MIPEX 2020 fir Lëtzebuerg",
        "en": "MIPEX 2020: presentation of the results for Luxembourg",
        "pt": "Apresentação dos resultados do MIPEX 2020 para o Luxemburgo",
    },
    "summary": {
        "fr": "Où en sont les politiques d'intégration au Luxembourg ? Les résultats du MIPEX 2020, présentés et discutés en public.",
        "de": "Wo steht Luxemburg in der Integrationspolitik? Die Ergebnisse des MIPEX 2020, öffentlich vorgestellt und diskutiert.",
        "lb": "Wou steet Lëtzebuerg mat senger Integratiounspolitik? D'Resultater vum MIPEX 2020, ëffentlech presentéiert an diskutéiert.",
        "en": "How does Luxembourg's integration policy measure up? The MIPEX 2020 results, presented and discussed in public.",
        "pt": "Em que ponto estão as políticas de integração no Luxemburgo? Os resultados do MIPEX 2020, apresentados e debatidos em público.",
    },
    "description": {
        "fr": (
            "Les résultats pour le Luxembourg du MIPEX 2020 sont présentés et discutés en présence d'un responsable "
            "du Migration Policy Group (MPG). L'indice compare les politiques d'intégration de 56 pays dans huit "
            "domaines : mobilité sur le marché de l'emploi, regroupement familial, éducation, santé, participation "
            "politique, résidence permanente, accès à la nationalité et lutte contre les discriminations. Où le "
            "Luxembourg progresse-t-il, où reste-t-il en retrait ? Présentation en français et en anglais, suivie "
            "des questions du public."
        ),
        "de": (
            "Die Ergebnisse des MIPEX 2020 für Luxemburg werden im Beisein eines Vertreters der Migration Policy "
            "Group (MPG) vorgestellt und diskutiert. Der Index vergleicht die Integrationspolitik von 56 Ländern in "
            "acht Bereichen: Arbeitsmarktmobilität, Familiennachzug, Bildung, Gesundheit, politische Teilhabe, "
            "Daueraufenthalt, Zugang zur Staatsangehörigkeit und Antidiskriminierung. Wo macht Luxemburg "
            "Fortschritte, wo liegt es zurück? Vortrag auf Französisch und Englisch, anschließend Fragen aus dem "
            "Publikum."
        ),
        "lb": (
            "D'Resultater vum MIPEX 2020 fir Lëtzebuerg ginn a Präsenz vun engem Vertrieder vun der Migration "
            "Policy Group (MPG) virgestallt an diskutéiert. Den Index vergläicht d'Integratiounspolitik vu 56 Länner "
            "an aacht Beräicher, vum Aarbechtsmaart bis zur Nationalitéit. Wou mécht Lëtzebuerg Fortschrëtter, a wou "
            "hänkt et hannendrun? Presentatioun op Franséisch an Englesch, duerno Froen aus dem Publikum."
        ),
        "en": (
            "The MIPEX 2020 results for Luxembourg are presented and discussed with a representative of the "
            "Migration Policy Group (MPG). The index compares integration policies in 56 countries across eight "
            "areas: labour market mobility, family reunion, education, health, political participation, permanent "
            "residence, access to nationality and anti-discrimination. Where is Luxembourg making progress, and "
            "where is it lagging behind? Presentation in French and English, followed by questions from the "
            "audience."
        ),
        "pt": (
            "Os resultados do MIPEX 2020 para o Luxemburgo são apresentados e debatidos na presença de um "
            "responsável do Migration Policy Group (MPG). O índice compara as políticas de integração de 56 países "
            "em oito áreas: mobilidade no mercado de trabalho, reagrupamento familiar, educação, saúde, participação "
            "política, residência permanente, acesso à nacionalidade e combate à discriminação. Em que domínios "
            "avança o Luxemburgo e em quais fica para trás? Apresentação em francês e em inglês, seguida de "
            "perguntas do público."
        ),
    },
}

_REFUGEES_DE = {
    "title": {
        "de": "Die Integration von Flüchtlingen in den Arbeitsmarkt – Erfahrungen aus Deutschland und Luxemburg",
        "en": "Integrating refugees into the labour market – experiences from Germany and Luxembourg (in German)",
    },
    "summary": {
        "de": "Webkonferenz auf Deutsch: Wie finden Geflüchtete in Deutschland und in Luxemburg den Weg in Arbeit?",
        "fr": "Web-conférence en allemand ; la même question est traitée en français à la même heure.",
        "lb": "Webkonferenz op Däitsch; zur selwechter Zäit gëtt déi selwecht Fro op Franséisch behandelt.",
        "en": "Web conference in German; the same question is discussed in French at the same time.",
    },
    "description": {
        "de": (
            "Flüchtlinge sind Opfer erzwungener Migration, die fast immer durch Krieg und Verfolgung ausgelöst "
            "wird. Als wohlhabende Gesellschaften, die die Menschenrechte achten, haben wir die Pflicht, sie "
            "aufzunehmen – und ihnen den Weg in Arbeit zu ebnen. Was hat sich in Deutschland und in Luxemburg "
            "bewährt, und wo hakt es noch: bei der Anerkennung von Abschlüssen, beim Spracherwerb, beim Zugang zu "
            "Praktika? Zur gleichen Zeit findet eine Webkonferenz auf Französisch statt."
        ),
        "en": (
            "Refugees are victims of forced migration, almost always caused by war and persecution. As prosperous "
            "societies that respect human rights, we have a duty to take them in – and to open the way to work. "
            "What has worked in Germany and in Luxembourg, and where are the obstacles: recognition of "
            "qualifications, learning the language, access to traineeships? The talk is in German; a French "
            "session runs at the same time."
        ),
    },
}

_REFUGEES_FR = {
    "title": {
        "fr": "Intégrer les réfugiés au marché de l'emploi – les cas allemands et luxembourgeois",
        "en": "Integrating refugees into the labour market – the German and Luxembourg cases (in French)",
    },
    "summary": {
        "fr": "Web-conférence en français : comment les réfugiés accèdent-ils à l'emploi en Allemagne et au Luxembourg ?",
        "de": "Webkonferenz auf Französisch; zur gleichen Zeit wird dieselbe Frage auf Deutsch behandelt.",
        "lb": "Webkonferenz op Franséisch; zur selwechter Zäit gëtt déi selwecht Fro op Däitsch behandelt.",
        "en": "Web conference in French; the same question is discussed in German at the same time.",
        "pt": "Webconferência em francês: como chegam os refugiados ao emprego na Alemanha e no Luxemburgo?",
    },
    "description": {
        "fr": (
            "Qui dit réfugié dit migration forcée, provoquée presque toujours par des guerres et des persécutions. "
            "En tant que sociétés prospères et respectueuses des droits humains, nous avons un devoir d'accueil, "
            "et l'accès à l'emploi en est une étape décisive. Qu'est-ce qui a fonctionné en Allemagne et au "
            "Luxembourg, et où sont les blocages : reconnaissance des diplômes, apprentissage des langues, accès "
            "aux stages ? Une web-conférence en allemand a lieu à la même heure."
        ),
        "de": (
            "Flüchtlinge sind Opfer erzwungener Migration, die fast immer durch Krieg und Verfolgung ausgelöst "
            "wird. Wie gelingt ihnen in Deutschland und in Luxemburg der Zugang zum Arbeitsmarkt, und wo gibt es "
            "Hürden? Diese Sitzung findet auf Französisch statt; zur gleichen Zeit läuft eine Webkonferenz auf "
            "Deutsch."
        ),
        "en": (
            "Refugees are victims of forced migration, almost always caused by war and persecution. How do they "
            "find work in Germany and in Luxembourg, and where are the obstacles? This session is in French; a "
            "German one runs at the same time."
        ),
    },
}

_TABLE_FR = {
    "title": {
        "fr": "Table de conversation en français",
        "de": "Gesprächsrunde auf Französisch",
        "lb": "Konversatiounsdësch op Franséisch",
        "en": "French conversation table",
        "pt": "Mesa de conversação em francês",
    },
    "summary": {
        "fr": "Pratiquez le français en petit groupe, dans une ambiance détendue, avec une animatrice ou un animateur bénévole.",
        "de": "Französisch sprechen in kleiner Runde und entspannter Atmosphäre, begleitet von einer ehrenamtlichen Moderation.",
        "lb": "Franséisch schwätzen an enger klenger Grupp, an enger gemittlecher Atmosphär, mat engem Benevol, deen d'Gespréich leet.",
        "en": "Practise your French in a small, relaxed group led by a volunteer.",
        "pt": "Pratique o francês em pequeno grupo, num ambiente descontraído, com um animador voluntário.",
    },
    "description": {
        "fr": (
            "De nombreuses personnes suivent des cours de langue mais n'ont pas toujours l'occasion de pratiquer la "
            "langue apprise. C'est pourquoi l'ASTI propose des tables de conversation ouvertes à tous les niveaux. "
            "On y parle de la vie quotidienne, de l'actualité et de ce que chacun a envie de partager. Pas de séance "
            "les jours fériés ni pendant les vacances de Noël."
        ),
        "de": (
            "Viele Menschen besuchen einen Sprachkurs, haben aber selten Gelegenheit, die gelernte Sprache auch zu "
            "sprechen. Deshalb bietet die ASTI Gesprächsrunden für alle Niveaus an. Gesprochen wird über den Alltag, "
            "das Tagesgeschehen und alles, was die Teilnehmenden erzählen möchten. An Feiertagen und in den "
            "Weihnachtsferien findet kein Treffen statt."
        ),
        "lb": (
            "Vill Leit besichen e Sproochecours, hunn awer seelen d'Geleeënheet, déi nei Sprooch och ze schwätzen. "
            "Dofir bitt d'ASTI Konversatiounsdëscher fir all Niveau un. Do gëtt iwwer den Alldag geschwat, iwwer "
            "d'Aktualitéit an iwwer alles, wat d'Leit gär erzielen. Op Feierdeeg an an der Chrëschtvakanz ass "
            "keen Dësch."
        ),
        "en": (
            "Many people take language classes but rarely get the chance to speak the language they are learning. "
            "That is why ASTI runs conversation tables open to all levels. We talk about everyday life, the news "
            "and whatever participants want to share. No session on public holidays or during the Christmas break."
        ),
        "pt": (
            "Muitas pessoas frequentam cursos de línguas, mas nem sempre têm oportunidade de praticar a língua que "
            "aprendem. Por isso, a ASTI organiza mesas de conversação abertas a todos os níveis. Fala-se do dia a "
            "dia, da atualidade e de tudo o que cada um quiser partilhar. Não há sessão nos feriados nem durante as "
            "férias de Natal."
        ),
    },
}

_TABLE_LB = {
    "title": {
        "lb": "Lëtzebuergesch Konversatiounsdësch",
        "fr": "Table de conversation en luxembourgeois",
        "de": "Gesprächsrunde auf Luxemburgisch",
        "en": "Luxembourgish conversation table",
        "pt": "Mesa de conversação em luxemburguês",
    },
    "summary": {
        "lb": "Lëtzebuergesch schwätzen an enger klenger Grupp, lues a mat vill Gedold – och fir Ufänger.",
        "fr": "Parler luxembourgeois en petit groupe, à votre rythme – débutants bienvenus.",
        "de": "Luxemburgisch sprechen in kleiner Runde, in Ihrem Tempo – auch für Anfänger.",
        "en": "Speak Luxembourgish in a small group, at your own pace – beginners welcome.",
        "pt": "Falar luxemburguês em pequeno grupo, ao seu ritmo – principiantes bem-vindos.",
    },
    "description": {
        "lb": (
            "Dir léiert Lëtzebuergesch a wëllt d'Sprooch och ausserhalb vum Cours schwätzen? Um "
            "Konversatiounsdësch schwätze mir an enger klenger Grupp iwwer den Alldag, d'Aktualitéit an alles, wat "
            "Iech interesséiert – lues a mat vill Gedold. All Niveau ass wëllkomm, och Ufänger. Op Feierdeeg an an "
            "der Chrëschtvakanz fält den Dësch aus."
        ),
        "fr": (
            "Vous apprenez le luxembourgeois et souhaitez le parler en dehors des cours ? Autour de la table, on "
            "discute en petit groupe de la vie quotidienne, de l'actualité et de tout ce qui vous intéresse, à votre "
            "rythme. Tous les niveaux sont les bienvenus, débutants compris. Pas de séance les jours fériés ni "
            "pendant les vacances de Noël."
        ),
        "de": (
            "Sie lernen Luxemburgisch und möchten die Sprache auch außerhalb des Kurses sprechen? In der Gesprächsrunde "
            "unterhalten wir uns in kleiner Gruppe über den Alltag, das Tagesgeschehen und alles, was Sie "
            "interessiert – in Ihrem Tempo. Alle Niveaus sind willkommen, auch Anfänger. An Feiertagen und in den "
            "Weihnachtsferien findet kein Treffen statt."
        ),
        "en": (
            "Learning Luxembourgish and want to speak it outside class? Around the table we chat in a small group "
            "about everyday life, the news and whatever interests you, at your own pace. All levels are welcome, "
            "beginners included. No session on public holidays or during the Christmas break."
        ),
        "pt": (
            "Está a aprender luxemburguês e quer praticá-lo fora das aulas? À volta da mesa, conversamos em pequeno "
            "grupo sobre o dia a dia, a atualidade e tudo o que lhe interessa, ao seu ritmo. Todos os níveis são "
            "bem-vindos, incluindo principiantes. Não há sessão nos feriados nem durante as férias de Natal."
        ),
    },
}


def _volunteering_texts(requested_by: dict[str, str]) -> dict[str, dict[str, str]]:
    """The information session on volunteering with DPI; `requested_by` names the commune in each language."""
    return {
        "title": {
            "fr": "Le bénévolat auprès des demandeurs de protection internationale",
            "de": "Ehrenamtliches Engagement für Antragsteller auf internationalen Schutz",
            "lb": "Benevolat fir Leit, déi internationale Schutz ufroen",
            "en": "Volunteering with applicants for international protection",
            "pt": "Voluntariado junto dos requerentes de proteção internacional",
        },
        "summary": {
            "fr": "Séance d'information et d'échange : qui sont les DPI et les réfugiés, et comment s'engager à leurs côtés comme bénévole ?",
            "de": "Informationsabend: Wer sind Schutzsuchende und Geflüchtete, und wie kann man sich ehrenamtlich für sie engagieren?",
            "lb": "Informatiounsowend: Wien sinn DPI a Flüchtlingen, a wéi kann ee sech als Benevol fir si engagéieren?",
            "en": "Information evening: who are applicants for international protection and refugees, and how can you volunteer alongside them?",
            "pt": "Sessão de informação: quem são os requerentes de proteção internacional e os refugiados, e como ser voluntário ao seu lado?",
        },
        "description": {
            "fr": (
                f"À la demande {requested_by['fr']}, l'Agence interculturelle de l'ASTI présente les chiffres et les "
                "différents statuts des demandeurs de protection internationale (DPI) et des réfugiés. Des DPI et des "
                "réfugiés témoignent : pourquoi ils sont venus, comment ils vivent au Luxembourg. Nous présentons "
                "ensuite les possibilités de bénévolat – accueil, accompagnement, pratique du luxembourgeois et du "
                "français avec tous les résidents – et les formations prévues pour préparer et soutenir les "
                "bénévoles. La soirée se termine par un échange sur les bonnes pratiques du vivre-ensemble dans la "
                "commune."
            ),
            "de": (
                f"Auf Anfrage {requested_by['de']} stellt die Agence interculturelle der ASTI Zahlen und die "
                "verschiedenen Status von Antragstellern auf internationalen Schutz (DPI) und anerkannten "
                "Flüchtlingen vor. Schutzsuchende und Geflüchtete erzählen, warum sie gekommen sind und wie sie in "
                "Luxemburg leben. Danach zeigen wir, wie man sich ehrenamtlich engagieren kann – bei der Aufnahme, "
                "in der Begleitung oder beim Luxemburgisch- und Französischsprechen mit allen Einwohnern – und "
                "welche Schulungen Ehrenamtliche auf ihre Aufgabe vorbereiten. Zum Schluss tauschen wir uns über "
                "gute Beispiele des Zusammenlebens in der Gemeinde aus."
            ),
            "lb": (
                f"Op Ufro {requested_by['lb']} stellt d'Agence interculturelle vun der ASTI d'Zuelen an déi "
                "verschidde Statute vun den DPI (Demandeurs de protection internationale) a vun de Flüchtlinge vir. "
                "DPI a Flüchtlingen erzielen, firwat si hiert Land verlooss hunn a wéi hiert Liewen zu Lëtzebuerg "
                "ausgesäit. Duerno weise mir, wéi een sech als Benevol engagéiere kann – beim Accueil, bei der "
                "Begleedung oder beim Schwätze vu Lëtzebuergesch a Franséisch mat allen Awunner – a wéi eng "
                "Formatiounen d'Benevolen op hir Aufgab virbereeden. Zum Schluss tausche mir eis iwwer gutt "
                "Beispiller aus dem Zesummeliewen an der Gemeng aus."
            ),
            "en": (
                f"At the request {requested_by['en']}, ASTI's intercultural agency presents the figures and the "
                "different statuses of applicants for international protection (DPI) and refugees. Applicants and "
                "refugees talk about why they came and what their life in Luxembourg is like. We then show how you "
                "can volunteer – in reception, as a mentor, or by speaking Luxembourgish and French with residents – "
                "and the training that prepares and supports volunteers. The evening ends with an exchange of good "
                "practices for living together in the commune."
            ),
            "pt": (
                f"A pedido {requested_by['pt']}, a Agência Intercultural da ASTI apresenta os números e os "
                "diferentes estatutos dos requerentes de proteção internacional (DPI) e dos refugiados. Requerentes "
                "e refugiados contam o que os trouxe até aqui e como é a sua vida no Luxemburgo. Mostramos depois "
                "como se pode ser voluntário – no acolhimento, no acompanhamento ou simplesmente a falar "
                "luxemburguês e francês com os residentes – e as formações que preparam e apoiam os voluntários. "
                "A sessão termina com uma troca de boas práticas de convivência na comuna."
            ),
        },
    }


_VOLUNTEERING_TOPICS = [
    "statistiques et statuts des DPI et réfugiés",
    "témoignages de DPI et de réfugiés",
    "bénévolat",
    "pratique du luxembourgeois et du français",
    "bonnes pratiques du vivre-ensemble",
]

# ---------------------------------------------------------------------------- events


def _webconference(organisation: str, slug: str, texts: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    return {
        "kind": "webconference",
        "organisation": organisation,
        "slug": slug,
        **texts,
        "languages": languages,
        "timezone": TIMEZONE,
        "capacity": 100,
        "confirmation_required": True,
        "reminders": ["P1D", "PT1H"],
        "online": True,
        "platform": "Webex",
        # a placeholder host: demo data never carries a working meeting link
        "join_url": f"https://meet.example.org/{organisation}-{slug}",
        "audience": "Tout public",
        "publish": True,
    }


def demo_events(today: dt.date) -> list[dict[str, Any]]:
    """Organiser API bodies (POST /api/organiser/events) plus a `publish` flag, all starting after `today`."""
    # the real programme's rhythm: a Wednesday talk, MIPEX the following Monday, the refugee
    # sessions two Wednesdays later; each moved a week on if it falls on a holiday
    first_wednesday = _next_weekday(today, WEDNESDAY)
    portuguese_day = _working(first_wednesday)
    mipex_day = _working(first_wednesday + dt.timedelta(days=5))
    refugees_day = _working(first_wednesday + dt.timedelta(days=14))
    mersch_day = _working(first_wednesday + dt.timedelta(days=19))  # a Monday evening
    differdange_day = _working(first_wednesday + dt.timedelta(days=36))  # a Thursday evening
    french_table_day = _working(_next_weekday(today, TUESDAY))
    luxembourgish_table_day = _working(_next_weekday(today, THURSDAY))

    portuguese = _webconference("cefis", "portugais-seconde-generation", _PT_SECOND_GENERATION, ["fr"])
    portuguese.update(_span(portuguese_day, *_LUNCH))
    portuguese["topics"] = ["seconde génération", "sentiment d'appartenance", "immigration portugaise"]

    press = _webconference("asti", "mipex-2020-conference-de-presse", _MIPEX_PRESS, ["fr", "en"])
    press.update(_span(mipex_day, (10, 0), (11, 0)))
    press.update(capacity=20, audience="Journalistes et représentants des médias", topics=["MIPEX 2020", "politiques d'intégration"])

    mipex = _webconference("asti", "mipex-2020-luxembourg", _MIPEX_PUBLIC, ["fr", "en"])
    mipex.update(_span(mipex_day, *_LUNCH))
    mipex["topics"] = ["MIPEX 2020", "politiques d'intégration", "comparaison internationale"]

    refugees_topics = ["réfugiés", "marché de l'emploi", "Allemagne", "Luxembourg"]
    refugees_de = _webconference("caritas", "fluechtlinge-arbeitsmarkt", _REFUGEES_DE, ["de"])
    refugees_de.update(_span(refugees_day, *_LUNCH), topics=refugees_topics)
    refugees_fr = _webconference("caritas", "refugies-marche-de-l-emploi", _REFUGEES_FR, ["fr"])
    refugees_fr.update(_span(refugees_day, *_LUNCH), topics=refugees_topics)

    french_table = {
        "kind": "conversation_table",
        "organisation": "asti",
        "slug": "table-de-conversation-francais",
        **_TABLE_FR,
        "languages": ["fr"],
        **_weekly(french_table_day, *_EVENING),
        "timezone": TIMEZONE,
        "capacity": 8,
        "confirmation_required": True,
        "reminders": ["P1D"],
        "online": False,
        "venue": "ASTI, 10-12, rue Auguste Laval, L-1922 Luxembourg-Eich",
        "commune": "Luxembourg",
        "practised_language": "fr",
        "level": "all",
        "topics": ["vie quotidienne", "actualité"],
        "audience": "Adultes apprenant le français, tous niveaux",
        "publish": True,
    }

    luxembourgish_table = {
        "kind": "conversation_table",
        "organisation": "clae",
        "slug": "konversatiounsdesch-letzebuergesch",
        **_TABLE_LB,
        "languages": ["lb"],
        **_weekly(luxembourgish_table_day, *_EVENING),
        "timezone": TIMEZONE,
        "capacity": 8,
        "confirmation_required": True,
        "reminders": ["P1D"],
        "online": False,
        "venue": "CLAE, 26, rue de Gasperich, L-1617 Luxembourg-Gasperich",
        "commune": "Luxembourg",
        "practised_language": "lb",
        "level": "all",
        "topics": ["vie quotidienne", "actualité"],
        "audience": "Adultes apprenant le luxembourgeois, tous niveaux",
        "publish": True,
    }

    def info_session(slug: str, day: dt.date, commune: str, venue: str, partner: str,
                     requested_by: dict[str, str], publish: bool) -> dict[str, Any]:
        return {
            "kind": "info_session",
            "organisation": "asti",
            "slug": slug,
            **_volunteering_texts(requested_by),
            "languages": ["fr", "lb"],
            **_span(day, (19, 0), (21, 0)),
            "timezone": TIMEZONE,
            "capacity": 40,
            "confirmation_required": True,
            "reminders": ["P2D", "PT2H"],
            "online": False,
            "venue": venue,
            "commune": commune,
            "topics": list(_VOLUNTEERING_TOPICS),
            "audience": "Habitants, associations locales et toute personne intéressée par le bénévolat",
            "requesting_partner": partner,
            "publish": publish,
        }

    mersch = info_session(
        "benevolat-dpi-mersch", mersch_day, "Mersch", "Mierscher Kulturhaus, route d'Arlon, Mersch",
        "Commune de Mersch",
        {"fr": "de la commune de Mersch", "de": "der Gemeinde Mersch", "lb": "vun der Gemeng Miersch",
         "en": "of the commune of Mersch", "pt": "da comuna de Mersch"},
        publish=True,
    )
    # still being planned with the city: the one draft, to show that drafts stay out of public lists
    differdange = info_session(
        "benevolat-dpi-differdange", differdange_day, "Differdange", "Aalt Stadhaus, avenue Charlotte, Differdange",
        "Ville de Differdange",
        {"fr": "de la Ville de Differdange", "de": "der Stadt Differdingen", "lb": "vun der Stad Déifferdeng",
         "en": "of the City of Differdange", "pt": "da cidade de Differdange"},
        publish=False,
    )

    return [portuguese, press, mipex, refugees_de, refugees_fr, french_table, luxembourgish_table, mersch, differdange]



async def load_programme(conn: asyncpg.Connection, settings: Settings, today: dt.date) -> int:
    """Create the demo organisations and events (published unless marked otherwise); returns events made."""
    for org in DEMO_ORGANISATIONS:
        await conn.execute(org_q.UPSERT_ORGANISATION, org["slug"], org["name"])
    system = Organiser(id=0, email="demo@localhost", name="demo", is_admin=True, roles={})
    created = 0
    for body in demo_events(today):
        body = dict(body)
        publish = body.pop("publish", True)
        event = await create_event(conn, system, msgspec.convert(body, EventIn), settings)
        if publish:
            await publish_event(conn, system, event.slug, settings)
        created += len(event.occurrences or [event.slug])
    return created

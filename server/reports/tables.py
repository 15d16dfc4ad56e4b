"""A report as tables of words and numbers in the reader's language: the workbook's sheets and the page's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.events.labels import kind_label
from server.i18n import N_, gettext
from server.interpretation.schemas import language_name
from server.reports.schemas import FEWER_THAN_THREE, DomainReport, Figures, Report

NO_DOMAIN = N_("Not tagged with a domain")
ALL_DOMAINS = N_("All domains")
FEWER_THAN_THREE_SHOWN = "< 3"

STATUS_NAMES = {
    "new": N_("New"),
    "in_discussion": N_("Under discussion"),
    "scheduled": N_("Scheduled"),
    "done": N_("Done"),
    "declined": N_("Declined"),
}

# the rows of the figures table: (label, how to read the figure from Figures)
FIGURES = [
    (N_("Events held"), lambda f: f.events.held),
    (N_("Web conferences held"), lambda f: f.events.webconference),
    (N_("Conversation tables held"), lambda f: f.events.conversation_table),
    (N_("Information sessions held"), lambda f: f.events.info_session),
    (N_("Events cancelled"), lambda f: f.events.cancelled),
    (N_("Dates of series held"), lambda f: f.events.series_sessions),
    (N_("Series"), lambda f: f.events.series),
    (N_("Registrations (confirmed)"), lambda f: f.registrations),
    (N_("Registrations cancelled"), lambda f: f.cancelled_registrations),
    (N_("On the waiting list, never got a place"), lambda f: f.waitlist_never_seated),
    (N_("Present"), lambda f: f.attendance.present),
    (N_("Absent"), lambda f: f.attendance.absent),
    (N_("Excused"), lambda f: f.attendance.excused),
    (N_("Attendance not marked"), lambda f: f.attendance.unmarked),
    (N_("Attendance rate"), lambda f: Percent(f.attendance.rate)),
    (N_("No-show rate"), lambda f: Percent(f.attendance.no_show_rate)),
    (N_("People reached"), lambda f: f.people_reached),
    (N_("Communes reached"), lambda f: f.communes.count),
    (N_("Web conference joins"), lambda f: f.webconference_joins),
    (N_("Interpretation missions"), lambda f: f.interpretation.missions),
    (N_("Interpretation missions done"), lambda f: f.interpretation.done),
    (N_("Interpretation missions cancelled"), lambda f: f.interpretation.cancelled),
    (N_("Interpretation hours"), lambda f: f.interpretation.hours),
    (N_("Commune requests received"), lambda f: f.commune_requests.total),
]


@dataclass(frozen=True)
class Percent:
    """A rate between 0 and 1, shown as a percentage; None when nothing was counted."""

    value: float | None


@dataclass
class Table:
    """A titled table: the workbook writes it as a sheet, the page as a <table>."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def domain_name(report: DomainReport, lang: str, *, totals: bool = False) -> str:
    """The domain's name, "All domains" for the totals, "Not tagged with a domain" for untagged activity."""
    if totals:
        return gettext(lang, ALL_DOMAINS)
    return report.domain.name if report.domain is not None else gettext(lang, NO_DOMAIN)


def shown(value: Any) -> Any:
    """A breakdown cell as a reader sees it: "< 3" for the masked ones."""
    return FEWER_THAN_THREE_SHOWN if value == FEWER_THAN_THREE else value


def figure_rows(figures: Figures, previous: Figures, lang: str) -> list[list[Any]]:
    """[label, this period, the year before] for every figure."""
    return [[gettext(lang, label), read(figures), read(previous)] for label, read in FIGURES]


def _sections(report: Report, lang: str) -> list[tuple[str, DomainReport]]:
    return [(domain_name(d, lang), d) for d in report.domains] + [
        (domain_name(report.totals, lang, totals=True), report.totals)
    ]


def tables(report: Report, lang: str) -> list[Table]:
    """Every table of the report, in the order of the page."""
    _ = lambda message: gettext(lang, message)  # noqa: E731
    sections = _sections(report, lang)
    domain, period, before = _("Domain"), _("This period"), _("Year before")
    figures = Table("figures", _("Figures"), [domain, _("Figure"), period, before])
    languages = Table("languages", _("Languages"), [domain, _("Language"), _("People"), before])
    communes = Table("communes", _("Communes"), [domain, _("Commune"), _("People"), _("Events held")])
    missions = Table("interpretation", _("Interpretation"), [domain, _("Language"), _("Missions"), _("Hours")])
    requests = Table("commune_requests", _("Commune requests"), [domain, _("Status"), period, before])
    for name, d in sections:
        figures.rows += [[name, *row] for row in figure_rows(d, d.previous_year, lang)]
        earlier = {item.language: item.people for item in d.previous_year.languages}
        languages.rows += [
            [name, language_name(item.language, lang), shown(item.people), shown(earlier.get(item.language, 0))]
            for item in d.languages
        ]
        communes.rows += [[name, item.commune, shown(item.people), item.events] for item in d.communes.list]
        missions.rows += [
            [name, language_name(item.language, lang), shown(item.missions), item.hours]
            for item in d.interpretation.by_language
        ]
        earlier_requests = d.previous_year.commune_requests
        requests.rows += [
            [name, _(label), getattr(d.commune_requests, status), getattr(earlier_requests, status)]
            for status, label in STATUS_NAMES.items()
        ]
    return [figures, languages, communes, missions, requests, *insight_tables(report, lang)]


def insight_tables(report: Report, lang: str) -> list[Table]:
    """The data of the charts, one table each."""
    _ = lambda message: gettext(lang, message)  # noqa: E731
    found = report.insights
    lead = Table(
        "lead_time",
        _("When people register"),
        [_("Days before the event"), _("Registrations")],
        [[item.days, item.registrations] for item in found.lead_time],
    )
    by_kind = Table(
        "attendance_by_kind",
        _("Attendance by kind"),
        [_("Kind of event"), _("Attendance marked"), _("Present"), _("Attendance rate")],
        [
            [kind_label(item.kind, lang), item.marked, item.present, Percent(item.rate)]
            for item in found.attendance_by_kind
        ],
    )
    by_language = Table(
        "attendance_by_language",
        _("Attendance by language"),
        [_("Language"), _("Attendance marked"), _("Attendance rate")],
        [
            [language_name(item.language, lang), shown(item.marked), Percent(item.rate)]
            for item in found.attendance_by_language
        ],
    )
    reach = Table(
        "reach_by_commune",
        _("Reach by commune"),
        [_("Commune"), _("People"), _("Events held")],
        [[item.commune, shown(item.people), item.events] for item in report.totals.communes.list],
    )
    demand = Table(
        "interpretation_by_month",
        _("Interpretation by month"),
        [_("Month"), _("Language"), _("Missions")],
        [
            [item.month, language_name(item.language, lang), shown(item.missions)]
            for item in found.interpretation_by_month
        ],
    )
    return [lead, by_kind, by_language, reach, demand]

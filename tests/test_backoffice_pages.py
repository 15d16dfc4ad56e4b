"""The back-office's dashboard, people and roles, and audit log (issue 22): figures on known data, what
needs attention, who may see and change what (admin, viewer, another organisation's staff)."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from server.backoffice import dashboard
from server.pages.render import htmx
from tests.apps import app_on
from tests.factories import create_event, create_organisation, create_organiser, insert_registration
from tests.test_backoffice_signin import browser, form_token, sign_in, with_password
from tests.test_pages import csrf_token, text_of

NOW = datetime.now(UTC)


@pytest.fixture
async def world(conn):
    """ASTI with an admin, an organiser and a viewer; Caritas with its admin; a person in both."""
    await create_organisation(conn, "asti", "ASTI")
    await create_organisation(conn, "caritas", "Caritas")
    people = {}
    for key, roles in {
        "admin": {"asti": "admin"},
        "organiser": {"asti": "organiser"},
        "viewer": {"asti": "viewer"},
        "caritas_admin": {"caritas": "admin"},
        "both": {"asti": "viewer", "caritas": "organiser"},
    }.items():
        person, token = await create_organiser(conn, roles)
        await conn.execute("UPDATE organisers SET name = $2 WHERE id = $1", person.id, key.replace("_", " ").title())
        await with_password(conn, person.email)
        people[key] = person
        people[key + "_token"] = token
    return people


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


@asynccontextmanager
async def signed_in(app, person, lang: str = "en"):
    """A browser with a session of `person`, whose account language becomes `lang`."""
    async with browser(app) as http:
        assert (await sign_in(http, person.email, lang=lang)).status_code == 303
        yield http


def soon(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------------------- dashboard


@pytest.fixture
async def programme(conn, settings, world):
    """Events of ASTI with known figures, one of Caritas, a draft and a cancelled one."""
    full = await create_event(conn, settings, organisation="asti", capacity=10, title={"en": "Filling up"})
    for status, count in (("confirmed", 3), ("pending", 2), ("waitlisted", 1), ("cancelled", 4)):
        for _ in range(count):
            await insert_registration(conn, settings, full.slug, status=status)
    no_link = await create_event(conn, settings, organisation="asti", title={"en": "Without link"}, capacity=None)
    await conn.execute("UPDATE events SET join_url = NULL WHERE slug = $1", no_link.slug)
    no_venue = await create_event(conn, settings, organisation="asti", title={"en": "Without venue"})
    await conn.execute(
        "UPDATE events SET kind = 'info_session', join_url = NULL, platform = NULL, venue = NULL, "
        "online = false WHERE slug = $1",
        no_venue.slug,
    )
    tomorrow = await create_event(
        conn, settings, organisation="asti", title={"en": "Tomorrow morning"}, starts_at=soon(5), ends_at=soon(6)
    )
    await insert_registration(conn, settings, tomorrow.slug, status="pending")
    await conn.execute(
        "INSERT INTO outbox (kind, event_id, recipient, status, last_error) "
        "SELECT 'reminder', id, 'x@example.org', 'failed', '550 no such user' FROM events "
        "WHERE slug = $1",
        tomorrow.slug,
    )
    draft = await create_event(conn, settings, organisation="asti", publish=False, title={"en": "Still a draft"})
    cancelled = await create_event(conn, settings, organisation="asti", title={"en": "Called off"})
    await conn.execute("UPDATE events SET status = 'cancelled' WHERE slug = $1", cancelled.slug)
    other = await create_event(conn, settings, organisation="caritas", title={"en": "Caritas only"})
    return {
        "full": full,
        "no_link": no_link,
        "no_venue": no_venue,
        "tomorrow": tomorrow,
        "draft": draft,
        "other": other,
    }


async def test_the_dashboard_counts_fill_holds_and_waiting_list_per_event(conn, world, programme) -> None:
    data = await dashboard.dashboard(conn, world["viewer"])
    coming = {e["slug"]: e for e in data["coming"]}
    assert set(coming) == {programme[k].slug for k in ("full", "no_link", "no_venue", "tomorrow")}
    full = coming[programme["full"].slug]
    assert (full["confirmed"], full["pending"], full["waitlist_length"], full["capacity"]) == (3, 2, 1, 10)
    assert [e["slug"] for e in data["drafts"]] == [programme["draft"].slug]
    needs = {e["slug"]: e["attention"] for e in data["attention"]}
    assert needs == {
        programme["full"].slug: ["waiting_while_free"],
        programme["no_link"].slug: ["no_join_link"],
        programme["no_venue"].slug: ["no_venue"],
        programme["tomorrow"].slug: ["failed_mails", "pending_soon"],
    }
    assert [e["slug"] for e in data["attention"]][0] == programme["tomorrow"].slug  # soonest first
    assert (data["attention_more"], data["later_href"], data["more_drafts_href"]) == (0, None, None)


async def test_the_dashboard_page_shows_figures_and_attention_in_the_persons_language(app, world, programme) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        page = text_of(await http.get("/organiser/"))
        assert "3 confirmed of 10 places · 2 awaiting confirmation · 1 on the waiting list" in page
        assert "Without link" in page and "Web conference without a join link" in page
        assert "Information session without a venue" in page and "Emails that could not be delivered" in page
        assert "Starts within 24 hours with unconfirmed places" in page
        assert "People on the waiting list while places are free" in page
        assert "Still a draft" in page and "Caritas only" not in page and "Called off" not in page
    async with signed_in(app, world["admin"], "de") as http:
        page = text_of(await http.get("/organiser/"))
        assert "3 von 10 Plätzen bestätigt" in page and "Webkonferenz ohne Zugangslink" in page
    async with signed_in(app, world["caritas_admin"], "fr") as http:
        page = text_of(await http.get("/organiser/"))
        assert "Caritas only" in page and "Filling up" not in page and "Without link" not in page


@pytest.fixture
async def long_programme(conn, settings, world):
    """ASTI's 30 coming events a day apart, the last without a join link, and 12 drafts."""
    coming = [
        await create_event(
            conn,
            settings,
            organisation="asti",
            title={"en": f"Session {i:02}"},
            starts_at=soon(48 + 24 * i),
            ends_at=soon(49 + 24 * i),
        )
        for i in range(30)
    ]
    await conn.execute("UPDATE events SET join_url = NULL WHERE slug = $1", coming[-1].slug)
    drafts = [
        await create_event(
            conn,
            settings,
            organisation="asti",
            publish=False,
            title={"en": f"Draft {i:02}"},
            starts_at=soon(50 + 24 * i),
            ends_at=soon(51 + 24 * i),
        )
        for i in range(12)
    ]
    return coming, drafts


async def test_the_dashboard_pages_coming_events_and_drafts_and_finds_attention_beyond_them(
    app, conn, world, long_programme
) -> None:
    coming, drafts = long_programme
    data = await dashboard.dashboard(conn, world["organiser"])
    assert [e["slug"] for e in data["coming"]] == [e.slug for e in coming[: dashboard.COMING_PAGE]]
    assert [e["slug"] for e in data["drafts"]] == [e.slug for e in drafts[: dashboard.DRAFTS_PAGE]]
    assert data["drafts_left"] == 2
    # the event that needs attention is on no page shown, and still needs it
    assert [(e["slug"], e["attention"]) for e in data["attention"]] == [(coming[-1].slug, ["no_join_link"])]
    async with signed_in(app, world["organiser"], "fr") as http:
        first = await http.get("/organiser/")
        page = text_of(first)
        assert "Session 24" in page and "Session 25" not in page and "Draft 09" in page and "Draft 10" not in page
        assert "Session 29" in page and "Web-conférence sans lien de connexion" in page
        assert "et 2 autres" in page and "Événements suivants" in page
        later = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        second = await http.get(later)
        page = text_of(second)
        assert second.status_code == 200 and "Session 25" in page and "Session 29" in page
        assert "Session 24" not in page and "Événements suivants" not in page and "Draft 00" in page
        more = re.search(r'<a href="([^"]+)">et 2 autres', first.text).group(1).replace("&amp;", "&")
        page = text_of(await http.get(more))
        assert "Draft 10" in page and "Draft 11" in page and "Draft 09" not in page and "Session 00" in page
        for bad in ("yesterday,1", "2026-12-01T10:00:00,1", "2026-12-01T10:00:00+00:00,x", "x" * 101):
            for name in ("after", "drafts_after"):
                answer = await http.get("/organiser/", params={name: bad})
                assert answer.status_code == 400, (name, bad)
                assert "Nous n'avons pas pu traiter cette demande" in text_of(answer)


async def test_more_than_a_page_needing_attention_shows_the_soonest_and_a_count(conn, settings, world) -> None:
    for i in range(dashboard.ATTENTION_MOST + 3):
        event = await create_event(
            conn,
            settings,
            organisation="asti",
            title={"en": f"No link {i}"},
            starts_at=soon(48 + i),
            ends_at=soon(49 + i),
        )
        await conn.execute("UPDATE events SET join_url = NULL WHERE slug = $1", event.slug)
    data = await dashboard.dashboard(conn, world["viewer"])
    assert len(data["attention"]) == dashboard.ATTENTION_MOST and data["attention_more"] == 3
    assert [e["title"]["en"] for e in data["attention"]][:2] == ["No link 0", "No link 1"]
    assert (await dashboard.dashboard(conn, world["caritas_admin"]))["attention"] == []


async def test_the_back_office_alone_loads_htmx_from_the_site_and_no_inline_script(app, world, programme) -> None:
    script = htmx()
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get("/organiser/")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert f'<script src="{script.url}" defer></script>' in page.text
        assert page.text.count("<script") == 1 and "<style" not in page.text
        served = await http.get(script.url)
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/javascript")
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert served.content == script.body and served.content.startswith(b"var htmx=function()")
        public = await http.get("/")
        assert "script-src" not in public.headers["content-security-policy"] and "<script" not in public.text


# ---------------------------------------------------------------------------- people and roles


async def test_an_admin_invites_changes_a_role_and_removes_through_the_page(app, conn, world) -> None:
    async with signed_in(app, world["admin"]) as http:
        page = await http.get("/organiser/people")
        assert page.status_code == 200
        shown = text_of(page)
        assert world["organiser"].email in shown and world["caritas_admin"].email not in shown
        token = csrf_token(page)
        # an error keeps what was typed, next to its field
        bad = await http.post(
            "/organiser/people",
            data={
                "csrf_token": token,
                "organisation": "asti",
                "name": "Jonas Weber",
                "email": "jonas@",
                "role": "organiser",
                "language": "de",
            },
        )
        assert bad.status_code == 422 and 'id="f-email-error"' in bad.text and 'value="Jonas Weber"' in bad.text
        answer = await http.post(
            "/organiser/people",
            data={
                "csrf_token": token,
                "organisation": "asti",
                "name": "Jonas Weber",
                "email": "Jonas@Example.org",
                "role": "organiser",
                "language": "de",
            },
        )
        assert answer.status_code == 303
        assert "The invitation is on its way." in text_of(await http.get(answer.headers["location"]))
        assert (
            await conn.fetchval(
                "SELECT language FROM outbox WHERE kind = 'organiser_invitation' AND recipient = 'jonas@example.org'"
            )
            == "de"
        )
        target = world["organiser"].id
        answer = await http.post(
            f"/organiser/people/{target}/role", data={"csrf_token": token, "organisation": "asti", "role": "viewer"}
        )
        assert answer.status_code == 303
        assert await conn.fetchval("SELECT role FROM memberships WHERE organiser_id = $1", target) == "viewer"
        answer = await http.post(
            f"/organiser/people/{target}/remove", data={"csrf_token": token, "organisation": "asti"}
        )
        assert answer.status_code == 303
        assert await conn.fetchval("SELECT count(*) FROM memberships WHERE organiser_id = $1", target) == 0
        audit = await http.get("/organiser/audit", params={"organisation": "asti"})
        shown = text_of(audit)
        for words in (
            "Invited a person",
            "Changed a role",
            "Removed a person",
            "jonas@example.org",
            world["admin"].email,
        ):
            assert words in shown
    rows = await conn.fetch(
        "SELECT action, detail FROM audit_log WHERE actor_id = $1 AND action <> 'sign_in' ORDER BY id",
        world["admin"].id,
    )
    assert [(r["action"], r["detail"].get("to")) for r in rows] == [
        ("person_invited", None),
        ("role_changed", "viewer"),
        ("person_removed", None),
    ]


async def test_an_account_with_roles_elsewhere_cannot_be_changed_by_an_organisation_admin(app, conn, world) -> None:
    async with signed_in(app, world["admin"]) as http:
        page = await http.get("/organiser/people")
        row = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(world['both'].email)}.*?</tr>", page.text, re.S).group(0)
        assert "/role" not in row and "/remove" not in row
        token = csrf_token(page)
        for action, extra in (("role", {"role": "admin"}), ("remove", {})):
            answer = await http.post(
                f"/organiser/people/{world['both'].id}/{action}",
                data={"csrf_token": token, "organisation": "asti", **extra},
            )
            assert answer.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM memberships WHERE organiser_id = $1", world["both"].id) == 2


async def test_a_viewer_sees_no_write_control_and_is_refused_writes(app, conn, world) -> None:
    async with signed_in(app, world["viewer"]) as http:
        dashboard = await http.get("/organiser/")
        assert "/organiser/people" not in dashboard.text and "/organiser/audit" not in dashboard.text
        assert (await http.get("/organiser/people")).status_code == 403
        assert (await http.get("/organiser/audit", params={"organisation": "asti"})).status_code == 403
        token = await form_token(http)
        answer = await http.post(
            f"/organiser/people/{world['organiser'].id}/role",
            data={"csrf_token": token, "organisation": "asti", "role": "admin"},
        )
        assert answer.status_code == 403
        answer = await http.post(
            "/organiser/people",
            data={"csrf_token": token, "organisation": "asti", "name": "X", "email": "x@example.org", "role": "admin"},
        )
        assert answer.status_code == 403
    assert (
        await conn.fetchval("SELECT role FROM memberships WHERE organiser_id = $1", world["organiser"].id)
        == "organiser"
    )
    assert await conn.fetchval("SELECT count(*) FROM organisers WHERE email = 'x@example.org'") == 0


async def test_another_organisations_staff_meet_404_as_for_a_missing_one(app, conn, world) -> None:
    async with signed_in(app, world["caritas_admin"]) as http:
        token = await form_token(http)
        missing = await http.get("/organiser/people", params={"organisation": "no-such-org"})
        for answer in (
            await http.get("/organiser/people", params={"organisation": "asti"}),
            await http.get("/organiser/audit", params={"organisation": "asti"}),
            await http.post(
                f"/organiser/people/{world['organiser'].id}/role",
                data={"csrf_token": token, "organisation": "asti", "role": "viewer"},
            ),
            await http.post(
                f"/organiser/people/{world['organiser'].id}/remove", data={"csrf_token": token, "organisation": "asti"}
            ),
            # their own organisation, someone who is not in it
            await http.post(
                f"/organiser/people/{world['organiser'].id}/role",
                data={"csrf_token": token, "organisation": "caritas", "role": "viewer"},
            ),
        ):
            assert answer.status_code == missing.status_code == 404
            assert text_of(answer) == text_of(missing)
    assert (
        await conn.fetchval("SELECT role FROM memberships WHERE organiser_id = $1", world["organiser"].id)
        == "organiser"
    )


# ---------------------------------------------------------------------------- audit log


async def test_event_changes_exports_and_messages_are_audited_and_shown_per_event(app, conn, world) -> None:
    from tests.factories import event_body

    api = {"authorization": f"Bearer {world['organiser_token']}", "accept": "application/json"}
    async with browser(app) as http:
        created = await http.post("/api/organiser/events", json=event_body(organisation="asti"), headers=api)
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        assert (
            await http.patch(f"/api/organiser/events/{slug}", json={"capacity": 20}, headers=api)
        ).status_code == 200
        assert (await http.post(f"/api/organiser/events/{slug}/publish", headers=api)).status_code == 200
        assert (await http.get(f"/api/organiser/events/{slug}/registrations.csv", headers=api)).status_code == 200
        sent = await http.post(
            f"/api/organiser/events/{slug}/messages", headers=api, json={"subject": "Hello", "body": "See you soon"}
        )
        assert sent.status_code == 202
        assert (await http.post(f"/api/organiser/events/{slug}/cancel", headers=api)).status_code == 200
        other = await http.post("/api/organiser/events", json=event_body(organisation="asti"), headers=api)
        assert other.status_code == 201
    rows = await conn.fetch(
        "SELECT a.action, a.actor_email, a.detail FROM audit_log a JOIN events e ON e.id = a.event_id "
        "WHERE e.slug = $1 ORDER BY a.id",
        slug,
    )
    assert [r["action"] for r in rows] == [
        "event_created",
        "event_changed",
        "event_published",
        "export",
        "message_sent",
        "event_cancelled",
    ]
    assert {r["actor_email"] for r in rows} == {world["organiser"].email}
    assert rows[1]["detail"]["fields"] == ["capacity"]
    async with signed_in(app, world["admin"]) as http:
        page = text_of(await http.get("/organiser/audit", params={"organisation": "asti", "event": slug}))
        for words in (
            "Created an event",
            "Changed an event",
            "Published an event",
            "Exported the registrations",
            "Wrote to the registered people",
            "Cancelled an event",
        ):
            assert words in page
        assert page.count("Created an event") == 1  # the other event is filtered out
        everything = text_of(await http.get("/organiser/audit", params={"organisation": "asti"}))
        assert everything.count("Created an event") == 2 and "Signed in" in everything
    async with signed_in(app, world["caritas_admin"]) as http:
        page = text_of(await http.get("/organiser/audit", params={"organisation": "caritas"}))
        assert "Created an event" not in page and world["organiser"].email not in page

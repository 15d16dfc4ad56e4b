"""One event in the back-office (issue 22): its texts in five languages with the public's fallback, and
publish and cancel behind a confirmation that says who will be told, through the events service."""

from __future__ import annotations

import pytest

from tests.apps import app_on
from tests.factories import create_event, insert_registration
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_pages import csrf_token, text_of


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


async def test_the_texts_are_side_by_side_with_the_fallback_the_public_reads(app, conn, settings, world) -> None:
    event = await create_event(
        conn,
        settings,
        organisation="asti",
        languages=["fr"],
        title={"fr": "Les Portugais de seconde génération", "de": "Portugiesen"},
        summary={"fr": "Un résumé."},
        description={"fr": "Une description."},
    )
    async with signed_in(app, world["viewer"], "en") as http:
        page = await http.get(f"/organiser/events/{event.slug}")
        assert page.status_code == 200
        shown = text_of(page)
        assert "Portugiesen" in shown and "Les Portugais de seconde génération" in shown
        # English, Luxembourgish and Portuguese have no title: the public reads the French one
        assert shown.count("Missing: the public reads the Français text.") == 3 + 4 + 4
        assert '<td lang="de">Portugiesen</td>' in page.text
        # a viewer reads, and is offered nothing to change
        assert "/cancel" not in page.text and "/publish" not in page.text


async def test_cancelling_says_who_will_be_told_then_tells_them(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti", capacity=20)
    for language, status, count in (
        ("fr", "confirmed", 7),
        ("pt", "pending", 2),
        ("pt", "waitlisted", 1),
        ("de", "confirmed", 2),
        ("en", "cancelled", 1),
    ):
        for _ in range(count):
            await insert_registration(conn, settings, event.slug, status=status, language=language)
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(f"/organiser/events/{event.slug}")
        assert f'href="/organiser/events/{event.slug}/cancel"' in page.text
        confirm = await http.get(f"/organiser/events/{event.slug}/cancel")
        assert "12 people will get a cancellation email: 7 fr, 3 pt, 2 de." in text_of(confirm)
        assert await conn.fetchval("SELECT status FROM events WHERE slug = $1", event.slug) == "published"
        refused = await http.post(f"/organiser/events/{event.slug}/cancel", data={"csrf_token": "f" * 64})
        assert refused.status_code == 403
        done = await http.post(f"/organiser/events/{event.slug}/cancel", data={"csrf_token": csrf_token(confirm)})
        assert done.status_code == 303 and done.headers["location"] == f"/organiser/events/{event.slug}?done=cancelled"
        assert "The event is cancelled." in text_of(await http.get(done.headers["location"]))
    assert await conn.fetchval("SELECT status FROM events WHERE slug = $1", event.slug) == "cancelled"
    told = await conn.fetch(
        "SELECT language, count(*) FROM outbox o JOIN events e ON e.id = o.event_id "
        "WHERE e.slug = $1 AND o.kind = 'event_cancelled' GROUP BY language ORDER BY 2 DESC",
        event.slug,
    )
    assert [tuple(r) for r in told] == [("fr", 7), ("pt", 3), ("de", 2)]
    assert (
        await conn.fetchval(
            "SELECT actor_email FROM audit_log a JOIN events e ON e.id = a.event_id "
            "WHERE e.slug = $1 AND a.action = 'event_cancelled'",
            event.slug,
        )
        == world["organiser"].email
    )


async def test_the_confirmation_is_in_the_persons_language_with_its_plural(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti")
    await insert_registration(conn, settings, event.slug, status="confirmed", language="lb")
    async with signed_in(app, world["organiser"], "fr") as http:
        page = await http.get(f"/organiser/events/{event.slug}/cancel")
        # text_of reads the no-break space before the colon as a space; the page has it
        assert "1 personne va recevoir un e-mail d'annulation\u00a0: 1 lb." in page.text


async def test_publishing_a_draft_goes_through_a_confirmation(app, conn, settings, world) -> None:
    draft = await create_event(conn, settings, organisation="asti", publish=False)
    async with signed_in(app, world["admin"], "de") as http:
        confirm = await http.get(f"/organiser/events/{draft.slug}/publish")
        assert "Niemand erhält jetzt eine E-Mail." in text_of(confirm)
        done = await http.post(f"/organiser/events/{draft.slug}/publish", data={"csrf_token": csrf_token(confirm)})
        assert done.status_code == 303
        # published: nothing left to publish
        assert (await http.get(f"/organiser/events/{draft.slug}/publish")).status_code == 404
    assert await conn.fetchval("SELECT status FROM events WHERE slug = $1", draft.slug) == "published"


async def test_a_viewer_is_refused_and_another_organisation_sees_nothing(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti")
    async with signed_in(app, world["viewer"]) as http:
        token = csrf_token(await http.get(f"/organiser/events/{event.slug}"))
        assert (await http.get(f"/organiser/events/{event.slug}/cancel")).status_code == 403
        assert (
            await http.post(f"/organiser/events/{event.slug}/cancel", data={"csrf_token": token})
        ).status_code == 403
    async with signed_in(app, world["caritas_admin"]) as http:
        token = csrf_token(await http.get("/organiser/"))
        missing = await http.get("/organiser/events/no-such-event")
        assert missing.status_code == 404
        for answer in (
            await http.get(f"/organiser/events/{event.slug}"),
            await http.get(f"/organiser/events/{event.slug}/cancel"),
            await http.post(f"/organiser/events/{event.slug}/cancel", data={"csrf_token": token}),
        ):
            assert answer.status_code == 404 and text_of(answer) == text_of(missing)
    assert await conn.fetchval("SELECT status FROM events WHERE slug = $1", event.slug) == "published"

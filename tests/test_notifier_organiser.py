"""Organisers and mail: where an event's messages stand, resending one, writing to the people."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from server.notifications.worker import Notifier
from server.outbox import message_id
from tests.apps import app_on
from tests.factories import create_event, create_organiser, insert_registration, queue_messages


@pytest.fixture
async def api(notifier_conn, notifier_settings) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP through the app, on the notifier tests' database (where a worker runs)."""
    app = app_on(notifier_settings, notifier_conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def event_with_outcomes(conn, settings, smtp_server):
    """An event whose four messages were sent, failed (550), retrying (450) and skipped (cancelled since)."""
    event = await create_event(conn, settings)
    ids = await queue_messages(conn, settings, 4, event_slug=event.slug)
    rows = {r["id"]: r for r in await conn.fetch("SELECT id, recipient, registration_id FROM outbox")}
    sent, failed, retrying, skipped = ids
    smtp_server.refuse(rows[failed]["recipient"], 550)
    smtp_server.refuse(rows[retrying]["recipient"], 450)
    await conn.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = $1",
        rows[skipped]["registration_id"],
    )
    return event, dict(sent=sent, failed=failed, retrying=retrying, skipped=skipped), rows


async def test_organisers_see_how_many_were_sent_queued_retrying_failed_skipped(
    api, notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    event, ids, _ = await event_with_outcomes(notifier_conn, notifier_settings, smtp_server)
    await Notifier(notifier_settings).drain(notifier_pool)
    await queue_messages(notifier_conn, notifier_settings, 1, event_slug=event.slug)  # one still queued
    _, token = await create_organiser(notifier_conn, {"asti": "viewer"})
    answer = await api.get(f"/api/organiser/events/{event.slug}/messages", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"] == {"sent": 1, "queued": 1, "retrying": 1, "failed": 1, "skipped": 1}
    [failed] = body["items"]
    assert failed["id"] == ids["failed"] and "550" in failed["last_error"]
    assert failed["message_id"] == message_id(ids["failed"], notifier_settings.mail_from)
    skipped = (
        await api.get(f"/api/organiser/events/{event.slug}/messages?status=skipped", headers=bearer(token))
    ).json()
    assert [(m["id"], m["last_error"]) for m in skipped["items"]] == [
        (ids["skipped"], "the registration is cancelled now")
    ]


async def test_other_organisations_do_not_see_an_events_mail(api, notifier_conn, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings)
    _, token = await create_organiser(notifier_conn, {"clae": "admin"})
    answer = await api.get(f"/api/organiser/events/{event.slug}/messages", headers=bearer(token))
    assert answer.status_code == 404
    assert (await api.get(f"/api/organiser/events/{event.slug}/messages")).status_code == 401


async def test_resending_a_failed_message_queues_it_again_under_its_message_id(
    api, notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    event, ids, rows = await event_with_outcomes(notifier_conn, notifier_settings, smtp_server)
    await Notifier(notifier_settings).drain(notifier_pool)
    _, token = await create_organiser(notifier_conn, {"asti": "organiser"})
    smtp_server.refused.clear()  # the mailbox works again
    answer = await api.post(f"/api/organiser/messages/{ids['failed']}/resend", headers=bearer(token))
    assert answer.status_code == 202, answer.text
    assert (answer.json()["id"], answer.json()["status"], answer.json()["attempts"]) == (ids["failed"], "queued", 0)
    await Notifier(notifier_settings).drain(notifier_pool)
    assert await notifier_conn.fetchval("SELECT status FROM outbox WHERE id = $1", ids["failed"]) == "sent"
    delivered = smtp_server.by_message_id()[message_id(ids["failed"], notifier_settings.mail_from)]
    assert [d.rcpt_tos for d in delivered] == [[rows[ids["failed"]]["recipient"]]]


async def test_resending_a_sent_message_sends_a_new_copy(
    api, notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [original] = await queue_messages(notifier_conn, notifier_settings, 1)
    await Notifier(notifier_settings).drain(notifier_pool)
    _, token = await create_organiser(notifier_conn, {"asti": "organiser"})
    answer = await api.post(f"/api/organiser/messages/{original}/resend", headers=bearer(token))
    assert answer.status_code == 202
    copy = answer.json()
    assert copy["id"] != original and copy["resent_from"] == original and copy["status"] == "queued"
    await Notifier(notifier_settings).drain(notifier_pool)
    # mail clients drop a message whose Message-ID they already have: the copy has its own
    assert [m.message_id for m in smtp_server.received] == [
        message_id(original, notifier_settings.mail_from),
        message_id(copy["id"], notifier_settings.mail_from),
    ]


async def test_resend_needs_a_writing_role_and_a_message_not_already_queued(api, notifier_conn, notifier_settings):
    [queued] = await queue_messages(notifier_conn, notifier_settings, 1)
    _, viewer = await create_organiser(notifier_conn, {"asti": "viewer"})
    _, outsider = await create_organiser(notifier_conn, {"clae": "organiser"})
    _, organiser = await create_organiser(notifier_conn, {"asti": "organiser"})
    assert (await api.post(f"/api/organiser/messages/{queued}/resend", headers=bearer(viewer))).status_code == 403
    assert (await api.post(f"/api/organiser/messages/{queued}/resend", headers=bearer(outsider))).status_code == 404
    assert (await api.post(f"/api/organiser/messages/{queued}/resend", headers=bearer(organiser))).status_code == 409
    assert (await api.post("/api/organiser/messages/999999/resend", headers=bearer(organiser))).status_code == 404


async def test_an_organiser_writes_to_the_confirmed_people_with_placeholders(
    api, notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    event = await create_event(notifier_conn, notifier_settings)
    confirmed = [
        (await insert_registration(notifier_conn, notifier_settings, event.slug, name=name, language=lang))[0]
        for name, lang in (("Ana Ferreira", "pt"), ("Jean Muller", "lb"))
    ]
    await insert_registration(notifier_conn, notifier_settings, event.slug, status="waitlisted", name="Wait Ing")
    _, token = await create_organiser(notifier_conn, {"asti": "organiser"})
    answer = await api.post(
        f"/api/organiser/events/{event.slug}/messages",
        headers=bearer(token),
        json={
            "subject": "News about {event}",
            "body": "Hello {name},\n\nplease bring a pen. {not a placeholder? no: braces with spaces}",
        },
    )
    assert answer.status_code == 422  # `{...}` that is not a placeholder is refused, even with spaces
    answer = await api.post(
        f"/api/organiser/events/{event.slug}/messages",
        headers=bearer(token),
        json={
            "subject": "News about {event}",
            "body": "Hello {name},\n\nplease bring a pen.\n\nCannot come? {manage_url}",
        },
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"queued": 2, "to": ["confirmed"]}
    await Notifier(notifier_settings).drain(notifier_pool)
    received = {m.rcpt_tos[0]: m.message for m in smtp_server.received}
    assert set(received) == {p["email"] for p in confirmed}
    for person in confirmed:
        text = received[person["email"]].get_body(("plain",)).get_content()
        assert f"Hello {person['name']}," in text and "{name}" not in text and "{manage_url}" not in text
        assert "{event}" not in str(received[person["email"]]["Subject"])


async def test_an_unknown_placeholder_is_named_in_a_422(api, notifier_conn, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings)
    _, token = await create_organiser(notifier_conn, {"asti": "organiser"})
    answer = await api.post(
        f"/api/organiser/events/{event.slug}/messages",
        headers=bearer(token),
        json={
            "subject": "Bonjour {prenom}",
            "body": "Bonjour {name}, rendez-vous {lieu}.",
        },
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = {(e["field"], e["message"].split(";")[0]) for e in answer.json()["errors"]}
    assert errors == {("subject", "Unknown placeholder {prenom}"), ("body", "Unknown placeholder {lieu}")}
    assert await notifier_conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_writing_to_the_waiting_list_only_and_roles(api, notifier_conn, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings)
    await insert_registration(notifier_conn, notifier_settings, event.slug, status="confirmed")
    waiting, _ = await insert_registration(notifier_conn, notifier_settings, event.slug, status="waitlisted")
    body = {"subject": "Waiting list", "body": "Hello {name}", "to": ["waitlisted"]}
    _, viewer = await create_organiser(notifier_conn, {"asti": "viewer"})
    assert (
        await api.post(f"/api/organiser/events/{event.slug}/messages", headers=bearer(viewer), json=body)
    ).status_code == 403
    _, organiser = await create_organiser(notifier_conn, {"asti": "organiser"})
    answer = await api.post(f"/api/organiser/events/{event.slug}/messages", headers=bearer(organiser), json=body)
    assert answer.json() == {"queued": 1, "to": ["waitlisted"]}
    row = await notifier_conn.fetchrow("SELECT * FROM outbox")
    assert (row["kind"], row["registration_id"], row["payload"]) == (
        "organiser_message",
        waiting["id"],
        {"subject": "Waiting list", "body": "Hello {name}"},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"subject": "", "body": "x"},
        {"subject": "two\nlines", "body": "x"},
        {"subject": "x", "body": "   "},
        {"subject": "x", "body": "x", "to": []},
        {"subject": "x", "body": "x", "to": ["cancelled"]},
        {"subject": "x", "body": "x", "cc": "someone"},
    ],
)
async def test_a_bad_message_is_a_422(api, notifier_conn, notifier_settings, body):
    event = await create_event(notifier_conn, notifier_settings)
    _, token = await create_organiser(notifier_conn, {"asti": "organiser"})
    answer = await api.post(f"/api/organiser/events/{event.slug}/messages", headers=bearer(token), json=body)
    assert answer.status_code == 422, answer.text

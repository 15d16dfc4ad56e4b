"""Registrations, organiser side: list, add and remove by hand, attendance, CSV export, stats, roles."""

from __future__ import annotations

import csv
import io

import pytest

from server.registrations.exports import safe_cell
from tests.factories import auth, create_event, create_organisation, create_organiser, register


async def registered(client, slug: str, **overrides) -> str:
    """Registers someone and gives the address used."""
    response = await register(client, slug, **overrides)
    assert response.status_code == 202, response.text
    return response.email


async def id_of(conn, email: str) -> int:
    return await conn.fetchval("SELECT id FROM registrations WHERE email = $1 ORDER BY id DESC LIMIT 1", email)


@pytest.fixture
async def staff(conn) -> str:
    """An organiser of ASTI."""
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


async def test_organiser_lists_and_filters_registrations_a_page_at_a_time(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, capacity=2)
    emails = [await registered(client, event.slug) for _ in range(3)]
    url = f"/api/organiser/events/{event.slug}/registrations"
    everyone = (await client.get(url, headers=auth(staff))).json()
    assert [item["email"] for item in everyone["items"]] == emails and everyone["next_cursor"] is None
    first = everyone["items"][0]
    assert {"id", "name", "email", "language", "status", "attendance"} <= set(first)
    waiting = (await client.get(url, params={"status": "waitlisted"}, headers=auth(staff))).json()["items"]
    assert [(w["email"], w["waitlist_position"]) for w in waiting] == [(emails[2], 1)]
    page = (await client.get(url, params={"limit": 2}, headers=auth(staff))).json()
    rest = (await client.get(url, params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth(staff))).json()
    assert [i["email"] for i in page["items"] + rest["items"]] == emails
    bad = await client.get(url, params={"cursor": "abc"}, headers=auth(staff))
    assert bad.status_code == 422


async def test_viewer_reads_registrations_but_cannot_change_them(client, conn, settings) -> None:
    _, viewer = await create_organiser(conn, {"cefis": "viewer"})
    event = await create_event(conn, settings, organisation="cefis")
    registration_id = await id_of(conn, await registered(client, event.slug))
    assert (
        await client.get(f"/api/organiser/events/{event.slug}/registrations", headers=auth(viewer))
    ).status_code == 200
    assert (await client.get(f"/api/organiser/events/{event.slug}/stats", headers=auth(viewer))).status_code == 200
    assert (
        await client.get(f"/api/organiser/events/{event.slug}/registrations.csv", headers=auth(viewer))
    ).status_code == 200
    refused = [
        await client.post(
            f"/api/organiser/events/{event.slug}/registrations", json={"name": "X"}, headers=auth(viewer)
        ),
        await client.patch(
            f"/api/organiser/registrations/{registration_id}", json={"attendance": "present"}, headers=auth(viewer)
        ),
        await client.delete(f"/api/organiser/registrations/{registration_id}", headers=auth(viewer)),
        await client.post(
            f"/api/organiser/events/{event.slug}/attendance",
            json={"marks": [{"id": registration_id, "attendance": "present"}]},
            headers=auth(viewer),
        ),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert await conn.fetchval("SELECT status FROM registrations WHERE id = $1", registration_id) == "pending"


async def test_another_organisations_registrations_are_404(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, organisation="clae")
    registration_id = await id_of(conn, await registered(client, event.slug))
    for method, path in (
        ("GET", f"/api/organiser/events/{event.slug}/registrations"),
        ("GET", f"/api/organiser/events/{event.slug}/registrations.csv"),
        ("GET", f"/api/organiser/events/{event.slug}/stats"),
        ("GET", f"/api/organiser/registrations/{registration_id}"),
        ("DELETE", f"/api/organiser/registrations/{registration_id}"),
    ):
        response = await client.request(method, path, headers=auth(staff))
        assert response.status_code == 404, (method, path)
    patched = await client.patch(
        f"/api/organiser/registrations/{registration_id}", json={"attendance": "present"}, headers=auth(staff)
    )
    assert patched.status_code == 404


async def test_organiser_endpoints_need_a_token(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    assert (await client.get(f"/api/organiser/events/{event.slug}/registrations")).status_code == 401
    assert (await client.get("/api/organiser/registrations/1")).status_code == 401


async def test_organiser_adds_a_person_by_hand_confirmed(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, capacity=2)
    added = await client.post(
        f"/api/organiser/events/{event.slug}/registrations",
        headers=auth(staff),
        json={"name": "Fatima Haddad", "email": "Fatima@Example.org", "interpretation": "ar"},
    )
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["status"], body["source"], body["email"], body["interpretation"]) == (
        "confirmed",
        "organiser",
        "fatima@example.org",
        "ar",
    )
    kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM outbox WHERE registration_id = $1", body["id"])]
    assert kinds == ["registration_confirmed"]
    walk_in = await client.post(
        f"/api/organiser/events/{event.slug}/registrations",
        headers=auth(staff),
        json={"name": "Piotr Nowak", "attendance": "present", "notify": False},
    )
    assert walk_in.status_code == 201 and walk_in.json()["attendance"] == "present" and walk_in.json()["email"] is None
    again = await client.post(
        f"/api/organiser/events/{event.slug}/registrations",
        headers=auth(staff),
        json={"name": "Fatima", "email": "fatima@example.org"},
    )
    assert again.status_code == 409


async def test_adding_by_hand_to_a_full_event_is_refused_unless_waitlisted(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, capacity=1)
    await registered(client, event.slug)
    url = f"/api/organiser/events/{event.slug}/registrations"
    refused = await client.post(url, headers=auth(staff), json={"name": "Late", "email": "late@example.org"})
    assert refused.status_code == 409 and refused.json()["code"] == "event_full"
    waitlisted = await client.post(
        url, headers=auth(staff), json={"name": "Late", "email": "late@example.org", "waitlist_if_full": True}
    )
    assert waitlisted.status_code == 201 and waitlisted.json()["status"] == "waitlisted"
    assert waitlisted.json()["waitlist_position"] == 1
    assert (
        await conn.fetchval(
            "SELECT seats_taken FROM event_seats JOIN events ON id = event_id WHERE slug = $1", event.slug
        )
        == 1
    )


async def test_organiser_removal_promotes_the_oldest_waitlisted_and_tells_the_person(
    client, conn, settings, staff
) -> None:
    event = await create_event(conn, settings, capacity=1, confirmation_required=False)
    holder, waiting = [await registered(client, event.slug) for _ in range(2)]
    holder_id = await id_of(conn, holder)
    removed = await client.delete(f"/api/organiser/registrations/{holder_id}", headers=auth(staff))
    assert removed.status_code == 200 and removed.json()["status"] == "cancelled"
    assert await conn.fetchval("SELECT status FROM registrations WHERE email = $1", waiting) == "confirmed"
    last = await conn.fetchrow(
        "SELECT kind, payload FROM outbox WHERE registration_id = $1 ORDER BY id DESC LIMIT 1", holder_id
    )
    assert (last["kind"], last["payload"]) == ("cancellation_acknowledged", {"by": "organiser"})


async def test_attendance_is_marked_one_by_one(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, confirmation_required=False)
    registration_id = await id_of(conn, await registered(client, event.slug))
    marked = await client.patch(
        f"/api/organiser/registrations/{registration_id}", json={"attendance": "present"}, headers=auth(staff)
    )
    assert marked.status_code == 200 and marked.json()["attendance"] == "present"
    cleared = await client.patch(
        f"/api/organiser/registrations/{registration_id}", json={"attendance": None}, headers=auth(staff)
    )
    assert cleared.json()["attendance"] is None
    bad = await client.patch(
        f"/api/organiser/registrations/{registration_id}", json={"attendance": "late"}, headers=auth(staff)
    )
    assert bad.status_code == 422


async def test_attendance_is_marked_in_bulk_all_or_nothing(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, confirmation_required=False)
    ids = [await id_of(conn, await registered(client, event.slug)) for _ in range(3)]
    url = f"/api/organiser/events/{event.slug}/attendance"
    marks = [
        {"id": ids[0], "attendance": "present"},
        {"id": ids[1], "attendance": "absent"},
        {"id": ids[2], "attendance": "excused"},
    ]
    done = await client.post(url, json={"marks": marks}, headers=auth(staff))
    assert done.status_code == 200 and done.json() == {"updated": 3}
    rows = await conn.fetch("SELECT attendance FROM registrations WHERE id = ANY($1) ORDER BY id", ids)
    assert [r["attendance"] for r in rows] == ["present", "absent", "excused"]
    other_event = await create_event(conn, settings)
    stranger = await id_of(conn, await registered(client, other_event.slug))
    refused = await client.post(
        url,
        headers=auth(staff),
        json={"marks": [{"id": ids[0], "attendance": None}, {"id": stranger, "attendance": "present"}]},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "marks[1].id"
    assert await conn.fetchval("SELECT attendance FROM registrations WHERE id = $1", ids[0]) == "present"
    twice = await client.post(url, headers=auth(staff), json={"marks": [marks[0], marks[0]]})
    assert twice.status_code == 422


async def test_attendance_belongs_to_people_who_had_a_seat(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, capacity=1)
    await registered(client, event.slug)
    waiting = await id_of(conn, await registered(client, event.slug))
    refused = await client.patch(
        f"/api/organiser/registrations/{waiting}", json={"attendance": "present"}, headers=auth(staff)
    )
    assert refused.status_code == 409 and refused.json()["code"] == "attendance_not_applicable"


async def test_organiser_confirms_a_pending_seat(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, capacity=1)
    pending = await id_of(conn, await registered(client, event.slug))
    waiting = await id_of(conn, await registered(client, event.slug))
    confirmed = await client.patch(
        f"/api/organiser/registrations/{pending}", json={"status": "confirmed"}, headers=auth(staff)
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert (
        await conn.fetchrow("SELECT kind FROM outbox WHERE registration_id = $1 ORDER BY id DESC LIMIT 1", pending)
    )["kind"] == "registration_confirmed"
    refused = await client.patch(
        f"/api/organiser/registrations/{waiting}", json={"status": "confirmed"}, headers=auth(staff)
    )
    assert refused.status_code == 409 and refused.json()["code"] == "not_pending"


async def test_organiser_corrects_a_persons_details(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings)
    registration_id = await id_of(conn, await registered(client, event.slug))
    fixed = await client.patch(
        f"/api/organiser/registrations/{registration_id}",
        headers=auth(staff),
        json={"name": "Ana Sílva", "email": "ANA@example.org", "commune": "mamer"},
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["name"], fixed.json()["email"], fixed.json()["commune"]) == (
        "Ana Sílva",
        "ana@example.org",
        "Mamer",
    )


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://x")',
        "+33 1",
        "-2+3",
        "@SUM(A1)",
        "\tcmd",
        "\rcmd",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        "  =1+1",
    ],
)
def test_a_csv_cell_never_starts_a_formula(value: str) -> None:
    assert safe_cell(value) == "'" + value


def test_harmless_csv_cells_stay_as_they_are() -> None:
    assert [safe_cell(v) for v in ("Ana", "", 12, "a=b", "João-Pedro")] == ["Ana", "", 12, "a=b", "João-Pedro"]


async def test_csv_export_is_utf8_with_bom_localised_and_formula_safe(client, conn, settings, staff) -> None:
    event = await create_event(conn, settings, capacity=1, confirmation_required=False)
    await registered(
        client, event.slug, name='=HYPERLINK("http://evil")', commune="Esch-sur-Alzette", accessibility="@SUM(A1)"
    )
    await registered(client, event.slug, name="João Gonçalves", language="pt")
    response = await client.get(f"/api/organiser/events/{event.slug}/registrations.csv", headers=auth(staff))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{event.slug}-registrations.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["N°", "Nom", "E-mail", "Langue", "Statut"]
    assert rows[1][1] == '\'=HYPERLINK("http://evil")' and rows[1][4] == "confirmée" and rows[1][9] == "'@SUM(A1)"
    assert rows[2][1] == "João Gonçalves" and rows[2][4] == "liste d'attente" and rows[2][5] == "1"
    english = await client.get(
        f"/api/organiser/events/{event.slug}/registrations.csv",
        params={"lang": "en", "delimiter": "comma"},
        headers=auth(staff),
    )
    header = next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert header[:3] == ["No.", "Name", "Email"]


async def test_stats_count_by_status_attendance_language_commune_and_interpretation(
    client, conn, settings, staff
) -> None:
    event = await create_event(conn, settings, capacity=2, confirmation_required=False)
    first = await registered(client, event.slug, language="lb", commune="Mersch", interpretation="ar")
    await registered(client, event.slug, language="pt", commune="Mersch", accessibility="wheelchair")
    await registered(client, event.slug, language="pt")
    await client.patch(
        f"/api/organiser/registrations/{await id_of(conn, first)}", json={"attendance": "present"}, headers=auth(staff)
    )
    stats = (await client.get(f"/api/organiser/events/{event.slug}/stats", headers=auth(staff))).json()
    assert stats["by_status"] == {"pending": 0, "confirmed": 2, "waitlisted": 1, "cancelled": 0, "expired": 0}
    assert stats["by_attendance"] == {"present": 1, "absent": 0, "excused": 0, "unmarked": 1}
    assert stats["by_language"] == {"pt": 2, "lb": 1}
    assert stats["by_commune"] == {"Mersch": 2}
    assert stats["by_interpretation"] == {"ar": 1}
    assert (stats["capacity"], stats["seats_taken"], stats["seats_left"], stats["waitlist_length"], stats["total"]) == (
        2,
        2,
        0,
        1,
        3,
    )
    assert stats["accessibility_requests"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/organiser/registrations/0",
        "/api/organiser/registrations/99999999999999999999",
        "/api/organiser/registrations/abc",
        "/api/organiser/events/%00/stats",
        "/api/organiser/events/BAD%20SLUG/registrations",
    ],
)
async def test_garbage_in_organiser_paths_is_a_4xx_problem(client, staff, path: str) -> None:
    response = await client.get(path, headers=auth(staff))
    assert 400 <= response.status_code < 500, response.status_code
    assert response.headers["content-type"].startswith("application/problem+json")

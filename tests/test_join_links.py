"""Personal join links of web conferences (/j/), the check-in QR code and its URL (issue 22, points 5 and 6).

Real PostgreSQL, real HTTP through the app; mails are built as the notifier builds them.
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import asyncpg
import pytest
import segno
import zxingcpp
from aiosmtplib.email import flatten_message
from PIL import Image

from server.errors import DomainError
from server.notifications.messages import Skip, build_message
from server.outbox import KINDS, enqueue
from server.registrations import joins, qr
from server.registrations import queries as q
from server.registrations.checkin import check_in
from server.registrations.tokens import checkin_url, join_url, scoped_token, token_from_nonce
from server.security import redact
from tests.factories import (
    auth,
    committed_events,
    create_event,
    create_organisation,
    create_organiser,
    insert_registration,
)

ROOM = "https://meet.example.org/room-of-the-conference"
PERSONAL = re.compile(r"https://zesummen\.test/j/[A-Za-z0-9_-]{43}")
# the heading each refusal page shows, in the person's language
HEADINGS = {
    ("cancelled", "de"): "Ihre Anmeldung ist storniert",
    ("expired", "lb"): "Är Umeldung gouf net confirméiert",
    ("not_confirmed", "pt"): "A sua inscrição ainda não está confirmada",
    ("event_cancelled", "fr"): "Cet événement a été annulé",
    ("no_link", "en"): "The web conference is not open yet",
    ("unknown", "pt"): "Esta ligação não funciona",
    ("unknown", "de"): "Dieser Link funktioniert nicht",
}


async def personal_link(conn, settings, registration_id: int) -> str:
    nonce = await conn.fetchval("SELECT token_nonce FROM registrations WHERE id = $1", registration_id)
    return join_url(settings.base, settings.secret_key, registration_id, bytes(nonce))


async def joins_of(conn, registration_id: int):
    return await conn.fetchrow("SELECT * FROM registration_joins WHERE registration_id = $1", registration_id)


@pytest.fixture
async def staff(conn) -> str:
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


# ---------------------------------------------------------------------------- the join path


async def test_a_confirmed_person_joins_through_their_link_and_both_joins_are_recorded(client, conn, settings) -> None:
    event = await create_event(conn, settings, join_url=ROOM)
    body = {"name": "Ana Silva", "email": "ana.join@example.org", "language": "pt", "consent": True}
    assert (await client.post(f"/api/events/{event.slug}/registrations", json=body)).status_code == 202
    row = await conn.fetchrow("SELECT * FROM registrations WHERE email = $1", body["email"])
    manage = token_from_nonce(settings.secret_key, bytes(row["token_nonce"]))
    confirmed = (await client.post(f"/api/registrations/{manage}/confirm")).json()
    link = confirmed["join_url"]
    assert link == await personal_link(conn, settings, row["id"]) and ROOM not in str(confirmed)
    path = link.removeprefix(settings.base)
    assert manage not in path  # a leaked join link does not give the manage page

    first = await client.get(path)
    assert first.status_code == 303 and first.headers["location"] == ROOM
    assert first.headers["cache-control"] == "no-store" and first.headers["referrer-policy"] == "no-referrer"
    recorded = await joins_of(conn, row["id"])
    assert recorded["first_joined_at"] == recorded["last_joined_at"] and recorded["joins"] == 1
    await asyncio.sleep(0.01)
    second = await client.get(path)
    assert second.status_code == 303 and second.headers["location"] == ROOM
    again = await joins_of(conn, row["id"])
    assert (
        again["first_joined_at"] == recorded["first_joined_at"] and again["last_joined_at"] > recorded["last_joined_at"]
    )
    assert again["joins"] == 2
    # the manage page's link (a join link must not be the manage token, nor open the manage page)
    assert (await client.get(f"/r/{path.removeprefix('/j/')}")).status_code == 404
    page = await client.get(f"/r/{manage}")
    assert link in page.text and ROOM not in page.text


async def test_two_joins_at_once_keep_the_first_instant(pool, settings) -> None:
    async with committed_events(pool, settings, "joins") as make:
        slug, _ = await make(join_url=ROOM)
        async with pool.acquire() as conn:
            row, _ = await insert_registration(conn, settings, slug, status="confirmed")
        first, second = await pool.acquire(), await pool.acquire()
        try:
            # control: two plain INSERTs of a join, overlapping as below, do collide (the race is real)
            control_a, control_b = first.transaction(), second.transaction()
            await control_a.start()
            await control_b.start()
            await first.execute("INSERT INTO registration_joins VALUES ($1, now(), now())", row["id"])
            blocked = asyncio.create_task(
                second.execute("INSERT INTO registration_joins VALUES ($1, now(), now())", row["id"])
            )
            await asyncio.sleep(0.2)
            assert not blocked.done()  # the second waits on the first's key
            await control_a.commit()
            with pytest.raises(asyncpg.UniqueViolationError):
                await blocked
            await control_b.rollback()
            await first.execute("DELETE FROM registration_joins WHERE registration_id = $1", row["id"])

            # the real statement, raced the same way: the first join's instant stays, the second counts
            tx_a, tx_b = first.transaction(), second.transaction()
            await tx_a.start()
            await tx_b.start()
            a = await first.fetchrow(q.RECORD_JOIN, row["id"])
            b_task = asyncio.create_task(second.fetchrow(q.RECORD_JOIN, row["id"]))
            await asyncio.sleep(0.2)
            assert not b_task.done()
            await tx_a.commit()
            b = await b_task
            await tx_b.commit()
            assert a["first"] is True and a["marked"] == 1
            assert b["first"] is False and b["marked"] == 0
            recorded = await first.fetchrow("SELECT * FROM registration_joins WHERE registration_id = $1", row["id"])
            assert recorded["joins"] == 2 and recorded["first_joined_at"] < recorded["last_joined_at"]
            assert await first.fetchval("SELECT attendance FROM registrations WHERE id = $1", row["id"]) == "present"

            # and two follows of the link at the same moment, on two connections, both lead to the room
            token = (await personal_link(first, settings, row["id"])).rsplit("/", 1)[1]
            before = recorded["first_joined_at"]
            outcomes = await asyncio.gather(joins.follow(first, token, settings), joins.follow(second, token, settings))
            assert [o.url for o in outcomes] == [ROOM, ROOM]
            recorded = await first.fetchrow("SELECT * FROM registration_joins WHERE registration_id = $1", row["id"])
            assert recorded["joins"] == 4 and recorded["first_joined_at"] == before
        finally:
            await pool.release(first)
            await pool.release(second)


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("case", "lang", "status_code"),
    [
        ("cancelled", "de", 410),
        ("expired", "lb", 410),
        ("pending", "pt", 409),
        ("waitlisted", "pt", 409),
        ("event_cancelled", "fr", 410),
        ("no_link", "en", 409),
        ("not_a_web_conference", "en", 409),
    ],
)
async def test_a_refused_join_gets_a_friendly_page_in_the_person_s_language_and_never_the_link(
    client,
    conn,
    settings,
    case: str,
    lang: str,
    status_code: int,
) -> None:
    overrides = {"join_url": ROOM}
    if case == "no_link":
        overrides["join_url"] = None
    if case == "not_a_web_conference":
        overrides.update(kind="conversation_table", online=True, practised_language="fr", level="B1")
    event = await create_event(conn, settings, **overrides)
    status = case if case in ("cancelled", "expired", "pending", "waitlisted") else "confirmed"
    row, _ = await insert_registration(conn, settings, event.slug, status=status, language=lang)
    if case == "event_cancelled":
        await conn.execute("UPDATE events SET status = 'cancelled' WHERE slug = $1", event.slug)
    link = await personal_link(conn, settings, row["id"])
    answer = await client.get(link.removeprefix(settings.base), headers={"Accept-Language": "fr"})
    assert answer.status_code == status_code, answer.text
    assert "location" not in answer.headers and "meet.example.org" not in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert f'<html lang="{lang}"' in answer.text
    refusal = {"pending": "not_confirmed", "waitlisted": "not_confirmed", "not_a_web_conference": "no_link"}.get(
        case, case
    )
    if (refusal, lang) in HEADINGS:
        assert HEADINGS[(refusal, lang)] in answer.text
    # nothing was recorded, nobody was marked present
    assert await joins_of(conn, row["id"]) is None
    assert await conn.fetchval("SELECT attendance FROM registrations WHERE id = $1", row["id"]) is None


async def test_an_erased_registration_s_link_and_a_made_up_one_lead_nowhere(client, conn, settings) -> None:
    event = await create_event(conn, settings, join_url=ROOM)
    row, manage = await insert_registration(conn, settings, event.slug, status="confirmed", language="pt")
    link = (await personal_link(conn, settings, row["id"])).removeprefix(settings.base)
    assert (await client.get(link)).status_code == 303
    assert (await client.post(f"/api/registrations/{manage}/erase")).status_code == 204
    # the nonce is gone, so the link cannot be told from a made-up one: the visitor's language
    answer = await client.get(link, headers={"Accept-Language": "pt-PT,pt;q=0.9"})
    assert (
        answer.status_code == 404
        and HEADINGS[("unknown", "pt")] in answer.text
        and "meet.example.org" not in answer.text
    )
    other_id = scoped_token(settings.secret_key, "join", row["id"] + 1, b"x" * 16)
    checkin_as_join = scoped_token(settings.secret_key, "checkin", row["id"], b"x" * 16)
    for made_up in (other_id, checkin_as_join, "A" * 43, "short", "é" * 43, manage):
        answer = await client.get(f"/j/{made_up}", headers={"Accept-Language": "de"})
        assert answer.status_code == 404 and HEADINGS[("unknown", "de")] in answer.text
        assert "meet.example.org" not in answer.text


async def test_a_check_in_token_does_not_open_the_conference(client, conn, settings) -> None:
    event = await create_event(conn, settings, join_url=ROOM)
    row, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    checkin = scoped_token(settings.secret_key, "checkin", row["id"], bytes(row["token_nonce"]))
    answer = await client.get(f"/j/{checkin}")
    assert answer.status_code == 404 and "meet.example.org" not in answer.text
    assert await joins_of(conn, row["id"]) is None


def test_the_join_and_check_in_paths_are_redacted_in_logs() -> None:
    token = "AAAAAAAAMDnJgiiLeUOGrkvp2Hnj5crWmivBsXwSMq0"
    for path in (f"/j/{token}", f"/organiser/checkin/{token}"):
        assert token not in redact(f'"GET {path} HTTP/1.1" 303')


# ---------------------------------------------------------------------------- mails and feed never carry the room


def _text(content: str | bytes) -> str:
    return content.decode() if isinstance(content, bytes) else content


async def test_no_mail_of_any_kind_carries_the_conference_link(conn, settings) -> None:
    start = datetime.now(UTC) + timedelta(days=3)
    event = await create_event(
        conn, settings, join_url=ROOM, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat()
    )
    payloads = {
        "reminder": {"offset": "P1D", "revision": 0},
        "organiser_message": {"subject": "Lien {event}", "body": "Bonjour {name}, à bientôt : {manage_url}"},
        "registration_promoted": {"status": "confirmed"},
    }
    built: dict[str, str] = {}
    for status in ("confirmed", "pending", "waitlisted", "cancelled", "expired"):
        reg, _ = await insert_registration(conn, settings, event.slug, status=status, language="fr")
        for kind in KINDS:
            outbox_id = await enqueue(
                conn,
                kind,
                event_id=reg["event_id"],
                registration_id=reg["id"],
                recipient=reg["email"],
                language="fr",
                payload=payloads.get(kind, {}),
            )
            row = await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id)
            try:
                message = await build_message(conn, row, settings)
            except Skip:
                continue
            raw = flatten_message(message)
            decoded = "\n".join(
                _text(part.get_content())
                for part in message_from_bytes(raw, policy=policy.default).walk()
                if part.get_content_maintype() == "text" or part.get_content_type() == "application/ics"
            )
            decoded = decoded.replace("\r\n ", "")  # unfold the calendars' lines
            assert ROOM not in decoded and b"meet.example.org" not in raw, (kind, status)
            built[f"{kind}/{status}"] = decoded
    # the mails that give the link give the person's own, the invitation included
    for key in (
        "registration_confirmed/confirmed",
        "reminder/confirmed",
        "event_changed/confirmed",
        "registration_promoted/confirmed",
        "organiser_message/confirmed",
    ):
        assert PERSONAL.search(built[key]), key
    assert len(built) >= 12


async def test_the_personal_feed_carries_the_person_s_link_and_not_the_room(client, conn, settings) -> None:
    event = await create_event(conn, settings, join_url=ROOM)
    row, manage = await insert_registration(conn, settings, event.slug, status="confirmed")
    feed = await client.get(f"/api/registrations/{manage}/calendar.ics")
    assert feed.status_code == 200 and b"meet.example.org" not in feed.content
    unfolded = feed.content.replace(b"\r\n ", b"").decode()
    assert await personal_link(conn, settings, row["id"]) in unfolded


# ---------------------------------------------------------------------------- organisers see who joined


async def test_organisers_see_the_first_join_and_a_prefilled_present_they_can_correct(
    client, conn, settings, staff
) -> None:
    event = await create_event(conn, settings, join_url=ROOM)
    joiner, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    absent_set, _ = await insert_registration(conn, settings, event.slug, status="confirmed", attendance="absent")
    never, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    url = f"/api/organiser/events/{event.slug}/registrations"

    def by_id(answer) -> dict[int, dict]:
        return {item["id"]: item for item in answer.json()["items"]}

    before = by_id(await client.get(url, headers=auth(staff)))
    assert before[joiner["id"]]["joined_at"] is None and before[joiner["id"]]["attendance"] is None
    for reg in (joiner, absent_set):
        assert (
            await client.get((await personal_link(conn, settings, reg["id"])).removeprefix(settings.base))
        ).status_code == 303
    after = by_id(await client.get(url, headers=auth(staff)))
    assert after[joiner["id"]]["joined_at"] is not None and after[joiner["id"]]["attendance"] == "present"
    assert after[absent_set["id"]]["attendance"] == "absent"  # an organiser's mark stands
    assert after[never["id"]]["joined_at"] is None and after[never["id"]]["attendance"] is None
    present = (await client.get(url, params={"attendance": "present"}, headers=auth(staff))).json()["items"]
    assert [item["id"] for item in present] == [joiner["id"]]

    # the organiser corrects it; a later join does not undo the correction, nor move the first join
    corrected = await client.patch(
        f"/api/organiser/registrations/{joiner['id']}", json={"attendance": "excused"}, headers=auth(staff)
    )
    assert corrected.status_code == 200 and corrected.json()["joined_at"] == after[joiner["id"]]["joined_at"]
    await client.get((await personal_link(conn, settings, joiner["id"])).removeprefix(settings.base))
    last = by_id(await client.get(url, headers=auth(staff)))[joiner["id"]]
    assert last["attendance"] == "excused" and last["joined_at"] == after[joiner["id"]]["joined_at"]
    one = (await client.get(f"/api/organiser/registrations/{joiner['id']}", headers=auth(staff))).json()
    assert one["joined_at"] == last["joined_at"]


# ---------------------------------------------------------------------------- the check-in QR code


def _decode_png(data: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


async def test_the_confirmation_mail_carries_a_qr_of_the_check_in_url_inline(conn, settings) -> None:
    event = await create_event(
        conn,
        settings,
        kind="info_session",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI, 10 route de Longwy",
        commune="Luxembourg",
    )
    reg, manage = await insert_registration(conn, settings, event.slug, status="confirmed", language="de")
    outbox_id = await enqueue(
        conn,
        "registration_confirmed",
        event_id=reg["event_id"],
        registration_id=reg["id"],
        recipient=reg["email"],
        language="de",
        payload={},
    )
    message = await build_message(conn, await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id), settings)
    parsed = message_from_bytes(flatten_message(message), policy=policy.default)
    images = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<checkin-qr@zesummen>"
    assert images[0].get_content_disposition() == "inline"
    expected = checkin_url(settings.base, settings.secret_key, reg["id"], bytes(reg["token_nonce"]))
    assert _decode_png(images[0].get_content()) == [expected]
    html = next(part.get_content() for part in parsed.walk() if part.get_content_type() == "text/html")
    assert 'src="cid:checkin-qr@zesummen"' in html and "Zeigen Sie diesen Code am Eingang" in html
    assert manage not in expected and expected.startswith(settings.base + "/organiser/checkin/")
    # the HTML part and its image travel together (multipart/related), next to the plain text
    assert any(part.get_content_type() == "multipart/related" for part in parsed.walk())


async def test_the_manage_page_shows_the_qr_of_the_check_in_url_as_inline_svg(client, conn, settings) -> None:
    event = await create_event(
        conn,
        settings,
        kind="info_session",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI",
        commune="Luxembourg",
    )
    reg, manage = await insert_registration(conn, settings, event.slug, status="confirmed", language="lb")
    page = await client.get(f"/r/{manage}")
    assert page.status_code == 200
    expected = checkin_url(settings.base, settings.secret_key, reg["id"], bytes(reg["token_nonce"]))
    svg = re.search(r"<svg[^>]*class=\"qr\".*?</svg>", page.text, re.S)
    assert svg is not None and "Ären Entréescode" in page.text and "<img" not in svg.group(0)
    # the SVG is exactly segno's code of the check-in URL (the same bytes as a fresh encoding of it)
    assert svg.group(0) == str(qr.svg(expected, "Ären Entréescode"))
    # and that code, drawn as an image, reads back as the URL
    buffer = io.BytesIO()
    segno.make(expected, error="m", micro=False, boost_error=False).save(buffer, kind="png", scale=5, border=4)
    assert _decode_png(buffer.getvalue()) == [expected]
    # a web conference's page has no door code: its join link marks attendance
    online = await create_event(conn, settings, join_url=ROOM)
    _, online_manage = await insert_registration(conn, settings, online.slug, status="confirmed")
    assert 'class="qr"' not in (await client.get(f"/r/{online_manage}")).text


async def test_a_stranger_opening_the_check_in_url_learns_nothing_and_changes_nothing(client, conn, settings) -> None:
    event = await create_event(
        conn,
        settings,
        kind="info_session",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI",
        commune="Luxembourg",
    )
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed", name="Maria Kohl")
    url = checkin_url(settings.base, settings.secret_key, reg["id"], bytes(reg["token_nonce"]))
    path = url.removeprefix(settings.base)
    before = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", reg["id"])
    for made_up in (path, "/organiser/checkin/" + "A" * 43):
        answer = await client.get(made_up)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/organiser/login?next=%2Forganiser%2Fcheckin%2F")
        assert answer.headers["cache-control"] == "no-store"
        assert "Maria" not in answer.text and event.slug not in answer.text
    after = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", reg["id"])
    assert dict(after) == dict(before) and after["attendance"] is None
    assert await joins_of(conn, reg["id"]) is None


async def test_check_in_marks_present_only_for_an_organiser_who_may_write_to_the_event(conn, settings) -> None:
    """The function the back-office's check-in page calls once the organiser is signed in."""
    event = await create_event(
        conn,
        settings,
        kind="info_session",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI",
        commune="Luxembourg",
        organisation="asti",
        title={"fr": "Séance d'accueil", "de": "Willkommen"},
    )
    reg, manage = await insert_registration(conn, settings, event.slug, status="confirmed", name="Maria Kohl")
    cancelled, _ = await insert_registration(conn, settings, event.slug, status="cancelled")
    token = checkin_url(settings.base, settings.secret_key, reg["id"], bytes(reg["token_nonce"])).rsplit("/", 1)[1]
    writer, _ = await create_organiser(conn, {"asti": "organiser"})
    viewer, _ = await create_organiser(conn, {"asti": "viewer"})
    stranger, _ = await create_organiser(conn, {"clae": "admin"})

    async def refused(organiser, code_token: str) -> int:
        with pytest.raises(DomainError) as refusal:
            await check_in(conn, organiser, code_token, "fr", settings)
        return refusal.value.status

    # another organisation's staff, a made-up code, the join or manage token: the same 404; a viewer 403
    join_token = scoped_token(settings.secret_key, "join", reg["id"], bytes(reg["token_nonce"]))
    for organiser, code_token, status in (
        (stranger, token, 404),
        (writer, "A" * 43, 404),
        (writer, join_token, 404),
        (writer, manage, 404),
        (viewer, token, 403),
    ):
        assert await refused(organiser, code_token) == status
    assert await conn.fetchval("SELECT attendance FROM registrations WHERE id = $1", reg["id"]) is None

    done = await check_in(conn, writer, token, "fr", settings)
    assert (done.name, done.event, done.event_title, done.already_present) == (
        "Maria Kohl",
        event.slug,
        "Séance d'accueil",
        False,
    )
    assert await conn.fetchval("SELECT attendance FROM registrations WHERE id = $1", reg["id"]) == "present"
    assert (await check_in(conn, writer, token, "de", settings)).already_present is True

    cancelled_token = scoped_token(settings.secret_key, "checkin", cancelled["id"], bytes(cancelled["token_nonce"]))
    assert await refused(writer, cancelled_token) == 409
    assert await conn.fetchval("SELECT attendance FROM registrations WHERE id = $1", cancelled["id"]) is None

"""Staff accounts as an attacker tries them (issue 20): nobody takes over an account, passwords are chosen
through a single-use invitation link, and sign-ins are limited per account and per client address."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from html import unescape

import asyncpg
import httpx
import msgspec
import pytest

from server.notifications.messages import Skip, build_message
from server.organisers import service as accounts
from server.settings import Settings
from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.processes import race, web_servers
from tests.test_pages import HTML, csrf_token, text_of

PASSWORD = "a long and good password"


@pytest.fixture
def client_with(conn):
    """A client on the test's transaction from a given client address, with some settings changed."""

    def make(settings: Settings, client_ip: str = "203.0.113.7", *, html: bool = False) -> httpx.AsyncClient:
        app = app_on(settings, conn)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(client_ip, 5000)),
            base_url="https://testserver",
            headers=HTML if html else {},
        )

    return make


async def account_state(conn: asyncpg.Connection, email: str) -> dict:
    """Everything an attacker could want to change about an account."""
    row = await conn.fetchrow("SELECT id, email, name, password_hash, is_admin FROM organisers WHERE email = $1", email)
    assert row is not None
    return {
        **dict(row),
        "memberships": sorted(
            tuple(r)
            for r in await conn.fetch(
                "SELECT organisation_id, role FROM memberships WHERE organiser_id = $1", row["id"]
            )
        ),
        "live_tokens": sorted(
            bytes(r["token_hash"])
            for r in await conn.fetch(
                "SELECT token_hash FROM api_tokens WHERE organiser_id = $1 AND revoked_at IS NULL", row["id"]
            )
        ),
        "open_invitations": await conn.fetchval(
            "SELECT count(*) FROM invitations WHERE organiser_id = $1 AND spent_at IS NULL", row["id"]
        ),
    }


async def with_password(conn: asyncpg.Connection, email: str, password: str = PASSWORD) -> None:
    """Give a factory account a password as its owner would have chosen it."""
    hashed = accounts._hasher.hash(password)
    await conn.execute("UPDATE organisers SET password_hash = $2 WHERE email = $1", email, hashed)


async def open_link(conn: asyncpg.Connection, settings: Settings, organiser_id: int) -> str:
    """The path of the account's open invitation link (the mail carries the same; see the end-to-end test)."""
    nonce = await conn.fetchval(
        "SELECT token_nonce FROM invitations WHERE organiser_id = $1 AND spent_at IS NULL", organiser_id
    )
    return f"/organiser/invitations/{accounts.invitation_token(settings.secret_key, bytes(nonce))}"


@pytest.fixture
async def world(conn):
    """A global administrator (with a password and a role in ASTI), ASTI's admin, and a colleague of Caritas."""
    await create_organisation(conn, "asti")
    await create_organisation(conn, "caritas")
    root, root_token = await create_organiser(conn, {"asti": "admin"}, is_admin=True)
    await with_password(conn, root.email)
    asti_admin, asti_token = await create_organiser(conn, {"asti": "admin"})
    caritas_member, _ = await create_organiser(conn, {"caritas": "organiser"})
    both, _ = await create_organiser(conn, {"asti": "viewer", "caritas": "viewer"})
    asti_only, _ = await create_organiser(conn, {"asti": "organiser"})
    await with_password(conn, asti_only.email)
    return {
        "root": root,
        "root_token": root_token,
        "asti_admin": asti_admin,
        "asti_token": asti_token,
        "caritas_member": caritas_member,
        "both": both,
        "asti_only": asti_only,
    }


# ---------------------------------------------------------------------------- account takeover


def email_variants(email: str) -> list[str]:
    local, domain = email.split("@")
    return [email, email.upper(), f"{local.capitalize()}@{domain.upper()}", f"{email}\n", f" {email}", f"{email} "]


@pytest.mark.parametrize("path", ["/api/organiser/organisers", "/api/organiser/invitations"])
@pytest.mark.parametrize("target", ["root", "caritas_member", "both"])
async def test_an_organisation_admin_cannot_touch_an_account_with_a_role_elsewhere_in_any_spelling(
    client,
    conn,
    world,
    path,
    target,
) -> None:
    victim = world[target].email
    before = await account_state(conn, victim)
    for email in email_variants(victim):
        for role in ("admin", "viewer"):
            body = {"email": email, "name": "Mallory", "memberships": [{"organisation": "asti", "role": role}]}
            answer = await client.post(path, headers=auth(world["asti_token"]), json=body)
            assert answer.status_code in (403, 422), (email, answer.text)
            if answer.status_code == 403:
                assert answer.json()["code"] == "account_out_of_reach"
    assert await account_state(conn, victim) == before
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE kind = 'organiser_invitation'") == 0


async def test_the_old_endpoint_refuses_any_password_even_from_a_global_administrator(client, conn, world) -> None:
    for actor, target in (("asti_token", "root"), ("asti_token", "asti_only"), ("root_token", "asti_only")):
        before = await account_state(conn, world[target].email)
        answer = await client.post(
            "/api/organiser/organisers",
            headers=auth(world[actor]),
            json={
                "email": world[target].email,
                "password": "attacker's choice 123",
                "memberships": [{"organisation": "asti", "role": "admin"}],
            },
        )
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "password"
        assert await account_state(conn, world[target].email) == before
    answer = await client.post(
        "/api/organiser/organisers",
        headers=auth(world["root_token"]),
        json={"email": "new@example.org", "password": "attacker's choice 123"},
    )
    assert answer.status_code == 422
    assert await conn.fetchval("SELECT count(*) FROM organisers WHERE email = 'new@example.org'") == 0


@pytest.mark.parametrize(
    "email",
    [
        "ａdmin@example.org",
        "ad\u200bmin@example.org",
        "admin@exam\u00adple.org",
        "admin@example.org\u2028",
        "a\u0000b@example.org",
    ],
)
async def test_look_alike_and_invisible_characters_in_an_email_are_refused(client, conn, world, email) -> None:
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(world["root_token"]),
        json={"email": email, "name": "Look-alike", "memberships": [{"organisation": "asti", "role": "viewer"}]},
    )
    assert answer.status_code == 422
    assert await conn.fetchval("SELECT count(*) FROM organisers WHERE name = 'Look-alike'") == 0


async def test_an_organisation_admin_grants_roles_in_their_organisations_only(client, conn, world) -> None:
    token = auth(world["asti_token"])
    for memberships in (
        [{"organisation": "caritas", "role": "viewer"}],
        [{"organisation": "asti", "role": "viewer"}, {"organisation": "caritas", "role": "admin"}],
        [],
    ):
        answer = await client.post(
            "/api/organiser/invitations",
            headers=token,
            json={"email": "newcomer@example.org", "name": "Newcomer", "memberships": memberships},
        )
        assert answer.status_code == 403, answer.text
    # no way to ask for global administration
    for extra in ({"is_admin": True}, {"password": "x" * 20}, {"roles": {"1": "admin"}}):
        answer = await client.post(
            "/api/organiser/invitations",
            headers=token,
            json={
                "email": "newcomer@example.org",
                "name": "Newcomer",
                "memberships": [{"organisation": "asti", "role": "viewer"}],
                **extra,
            },
        )
        assert answer.status_code == 422, answer.text
    assert await conn.fetchval("SELECT count(*) FROM organisers WHERE email = 'newcomer@example.org'") == 0
    # a role other than admin in the organisation is not enough to invite
    _, organiser_token = await create_organiser(conn, {"asti": "organiser"})
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(organiser_token),
        json={
            "email": "newcomer@example.org",
            "name": "Newcomer",
            "memberships": [{"organisation": "asti", "role": "viewer"}],
        },
    )
    assert answer.status_code == 403


async def test_reinviting_an_existing_account_only_changes_its_role(client, conn, world) -> None:
    target = world["asti_only"].email
    before = await account_state(conn, target)
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(world["asti_token"]),
        json={
            "email": target.upper(),
            "name": "Renamed By Mallory",
            "memberships": [{"organisation": "asti", "role": "viewer"}],
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["invitation_sent"] is False and answer.json()["name"] == before["name"]
    after = await account_state(conn, target)
    assert after["memberships"] != before["memberships"] and [r for _, r in after["memberships"]] == ["viewer"]
    del after["memberships"], before["memberships"]
    assert after == before
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE kind = 'organiser_invitation'") == 0


async def test_a_global_administrator_adds_roles_without_touching_name_or_password(client, conn, world) -> None:
    target = world["both"].email
    before = await account_state(conn, target)
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(world["root_token"]),
        json={"email": target, "name": "Other Name", "memberships": [{"organisation": "caritas", "role": "admin"}]},
    )
    assert answer.status_code == 201
    after = await account_state(conn, target)
    assert after["name"] == before["name"] and after["password_hash"] == before["password_hash"] is None
    assert after["live_tokens"] == before["live_tokens"] and after["is_admin"] is False
    # no password yet: a new link replaces the old ones
    assert answer.json()["invitation_sent"] is True and after["open_invitations"] == 1


async def test_removing_people_follows_the_same_reach_rule(client, conn, world) -> None:
    token = auth(world["asti_token"])
    asti = await conn.fetchval("SELECT id FROM organisations WHERE slug = 'asti'")
    refusals = {
        ("asti", world["root"].id): 403,  # the global administrator
        ("asti", world["both"].id): 403,  # also in Caritas
        ("caritas", world["caritas_member"].id): 403,  # not their organisation
        ("asti", world["caritas_member"].id): 404,  # no role in ASTI to remove
        ("nowhere", world["asti_only"].id): 404,
    }
    for (slug, organiser_id), status in refusals.items():
        watched = (world["root"], world["both"], world["caritas_member"])
        states = {o.email: await account_state(conn, o.email) for o in watched}
        answer = await client.delete(f"/api/organiser/organisations/{slug}/members/{organiser_id}", headers=token)
        assert answer.status_code == status, (slug, organiser_id, answer.text)
        assert {email: await account_state(conn, email) for email in states} == states
    answer = await client.delete(f"/api/organiser/organisations/asti/members/{world['asti_only'].id}", headers=token)
    assert answer.status_code == 204
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM memberships WHERE organiser_id = $1 AND organisation_id = $2",
            world["asti_only"].id,
            asti,
        )
        == 0
    )
    # the global administrator may
    answer = await client.delete(
        f"/api/organiser/organisations/caritas/members/{world['both'].id}", headers=auth(world["root_token"])
    )
    assert answer.status_code == 204


async def test_an_invitation_link_works_once_and_not_after_a_password_was_set_another_way(
    client,
    conn,
    world,
    settings,
) -> None:
    invite = {
        "email": "lena@example.org",
        "name": "Lena",
        "memberships": [{"organisation": "asti", "role": "organiser"}],
    }
    first = await client.post("/api/organiser/invitations", headers=auth(world["asti_token"]), json=invite)
    assert first.status_code == 201 and first.json()["invitation_sent"]
    first_link = await open_link(conn, settings, first.json()["id"])
    # sent again: only the newest link works
    again = await client.post("/api/organiser/invitations", headers=auth(world["asti_token"]), json=invite)
    second_link = await open_link(conn, settings, again.json()["id"])
    assert first_link != second_link
    assert (await client.get(first_link, headers=HTML)).status_code == 410
    assert (await client.get(second_link, headers=HTML)).status_code == 200
    # the password set another way (as a back-office reset would): the open link dies with it
    await with_password(conn, "lena@example.org", "set some other way")
    before = await account_state(conn, "lena@example.org")
    page = await client.get(second_link, headers=HTML)
    assert page.status_code == 410
    assert (await accept_raises(conn, second_link)) == accounts.InvitationSpent
    assert await account_state(conn, "lena@example.org") == before


async def accept_raises(conn, link: str):
    try:
        await accounts.accept_invitation(conn, link.rsplit("/", 1)[1], "whatever password 1")
    except (accounts.InvitationSpent, accounts.InvitationUnknown) as refusal:
        return type(refusal)
    return None


async def test_an_expired_or_unknown_link_sets_no_password(client, client_with, conn, world, settings) -> None:
    pages = client_with(settings, html=True)
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(world["root_token"]),
        json={
            "email": "late@example.org",
            "name": "Late",
            "memberships": [{"organisation": "caritas", "role": "viewer"}],
        },
    )
    link = await open_link(conn, settings, answer.json()["id"])
    page = await pages.get(link)
    assert page.status_code == 200
    await conn.execute(
        "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE organiser_id = $1", answer.json()["id"]
    )
    posted = await pages.post(
        link, data={"csrf_token": csrf_token(page), "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert posted.status_code == 410 and "Ce lien ne fonctionne plus" in text_of(posted)
    for forged in (link[:-1] + ("A" if link[-1] != "A" else "B"), "/organiser/invitations/short", link + "x"):
        assert (await pages.get(forged)).status_code == 410
    assert await conn.fetchval("SELECT password_hash FROM organisers WHERE email = 'late@example.org'") is None
    # and the mail of an expired invitation is not sent late
    row = await conn.fetchrow("SELECT * FROM outbox WHERE recipient = 'late@example.org'")
    with pytest.raises(Skip):
        await build_message(conn, row, settings)


async def test_the_invitation_form_refuses_a_post_from_another_site(client, client_with, conn, world, settings) -> None:
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(world["root_token"]),
        json={"email": "csrf@example.org", "name": "Csrf", "memberships": []},
    )
    link = await open_link(conn, settings, answer.json()["id"])
    pages = client_with(settings, html=True)
    page = await pages.get(link)
    posted = await pages.post(
        link,
        headers={"Origin": "https://evil.example"},
        data={"csrf_token": csrf_token(page), "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert posted.status_code == 403
    forged = await client_with(settings, "198.51.100.66", html=True).post(
        link, data={"csrf_token": csrf_token(page), "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert forged.status_code == 403  # the token without its cookie
    assert await conn.fetchval("SELECT password_hash FROM organisers WHERE email = 'csrf@example.org'") is None


# ---------------------------------------------------------------------------- setting a password revokes


async def test_choosing_the_password_through_the_link_revokes_every_token_of_the_account(
    client,
    client_with,
    conn,
    world,
    settings,
) -> None:
    person, token = await create_organiser(conn, {"asti": "viewer"})  # an account without a password yet
    assert (await client.get("/api/organiser/me", headers=auth(token))).status_code == 200
    answer = await client.post(
        "/api/organiser/invitations",
        headers=auth(world["asti_token"]),
        json={"email": person.email, "name": "Ignored", "memberships": [{"organisation": "asti", "role": "organiser"}]},
    )
    assert answer.json()["invitation_sent"] is True
    link = await open_link(conn, settings, person.id)
    pages = client_with(settings, html=True)
    page = await pages.get(link)
    done = await pages.post(
        link, data={"csrf_token": csrf_token(page), "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert done.status_code == 303
    assert (await client.get("/api/organiser/me", headers=auth(token))).status_code == 401
    assert (await account_state(conn, person.email))["live_tokens"] == []


async def test_changing_ones_password_needs_the_current_one_and_revokes_the_other_tokens(client, conn, world) -> None:
    email = world["asti_only"].email
    tokens = [
        (await client.post("/api/organiser/login", json={"email": email, "password": PASSWORD})).json()["token"]
        for _ in range(2)
    ]
    before = await account_state(conn, email)
    wrong = await client.post(
        "/api/organiser/password",
        headers=auth(tokens[0]),
        json={"current_password": "not the password", "new_password": "a brand new password"},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    short = await client.post(
        "/api/organiser/password", headers=auth(tokens[0]), json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    assert await account_state(conn, email) == before
    changed = await client.post(
        "/api/organiser/password",
        headers=auth(tokens[0]),
        json={"current_password": PASSWORD, "new_password": "a brand new password"},
    )
    assert changed.status_code == 204
    assert (await client.get("/api/organiser/me", headers=auth(tokens[0]))).status_code == 200
    assert (await client.get("/api/organiser/me", headers=auth(tokens[1]))).status_code == 401
    assert (await client.post("/api/organiser/login", json={"email": email, "password": PASSWORD})).status_code == 401
    new = await client.post("/api/organiser/login", json={"email": email, "password": "a brand new password"})
    assert new.status_code == 200


async def test_the_password_endpoint_needs_a_token_before_anything(client) -> None:
    answer = await client.post("/api/organiser/password", json={"current_password": "x", "new_password": "y" * 12})
    assert answer.status_code == 401


# ---------------------------------------------------------------------------- brute force


async def test_thirty_wrong_passwords_meet_429_alike_for_a_known_and_an_unknown_account(
    client_with,
    conn,
    world,
    settings,
) -> None:
    known = world["asti_only"].email
    answers = {}
    for email, address in ((known, "198.51.100.1"), ("nobody@example.org", "198.51.100.2")):
        http = client_with(settings, address)
        answers[email] = [
            await http.post("/api/organiser/login", json={"email": email, "password": f"guess {n}"}) for n in range(30)
        ]
    allowed = settings.sign_in_failures_per_account
    for tries in answers.values():
        assert [a.status_code for a in tries] == [401] * allowed + [429] * (30 - allowed)
        assert all(0 < int(a.headers["retry-after"]) <= settings.sign_in_window.total_seconds() for a in tries[10:])
    assert answers[known][-1].json() == answers["nobody@example.org"][-1].json()
    assert answers[known][-1].json()["code"] == "sign_in_limited"
    assert answers[known][0].json() == answers["nobody@example.org"][0].json()
    # the right password waits for the window too, from another address as well
    for address in ("198.51.100.1", "192.0.2.99"):
        right = await client_with(settings, address).post(
            "/api/organiser/login", json={"email": known, "password": PASSWORD}
        )
        assert right.status_code == 429
    # once the window has passed it works again
    await conn.execute("UPDATE rate_limits SET window_start = window_start - $1::interval", settings.sign_in_window)
    right = await client_with(settings, "198.51.100.1").post(
        "/api/organiser/login", json={"email": known, "password": PASSWORD}
    )
    assert right.status_code == 200


async def test_a_successful_sign_in_is_not_counted_as_a_failure(client_with, conn, world, settings) -> None:
    http = client_with(settings, "198.51.100.3")
    for _ in range(settings.sign_in_failures_per_account + 5):
        answer = await http.post("/api/organiser/login", json={"email": world["asti_only"].email, "password": PASSWORD})
        assert answer.status_code == 200


async def test_failures_are_limited_per_client_address_across_emails(client_with, conn, world, settings) -> None:
    limited = msgspec.structs.replace(settings, sign_in_failures_per_address=5)
    http = client_with(limited, "2001:db8:5:6::1")
    statuses = [
        (await http.post("/api/organiser/login", json={"email": f"p{n}@example.org", "password": "x"})).status_code
        for n in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    # the same /64 shares the limit, and the right password is refused there too
    neighbour = client_with(limited, "2001:db8:5:6::beef")
    right = await neighbour.post("/api/organiser/login", json={"email": world["asti_only"].email, "password": PASSWORD})
    assert right.status_code == 429
    elsewhere = client_with(limited, "2001:db8:5:7::1")
    assert (
        await elsewhere.post("/api/organiser/login", json={"email": world["asti_only"].email, "password": PASSWORD})
    ).status_code == 200


async def test_the_address_behind_a_trusted_proxy_is_the_one_limited(client_with, conn, world, settings) -> None:
    limited = msgspec.structs.replace(settings, sign_in_failures_per_address=2, trusted_proxies=("10.0.0.0/8",))
    proxy = client_with(limited, "10.0.0.5")
    for n in range(2):
        answer = await proxy.post(
            "/api/organiser/login",
            json={"email": f"q{n}@example.org", "password": "x"},
            headers={"X-Forwarded-For": "198.51.100.20"},
        )
        assert answer.status_code == 401
    blocked = await proxy.post(
        "/api/organiser/login",
        json={"email": "q9@example.org", "password": "x"},
        headers={"X-Forwarded-For": "198.51.100.20"},
    )
    assert blocked.status_code == 429
    other = await proxy.post(
        "/api/organiser/login",
        json={"email": "q9@example.org", "password": "x"},
        headers={"X-Forwarded-For": "198.51.100.21"},
    )
    assert other.status_code == 401


async def test_guessing_the_current_password_is_limited_like_a_login(client_with, conn, world, settings) -> None:
    http = client_with(settings, "198.51.100.30")
    email = world["asti_only"].email
    token = (await http.post("/api/organiser/login", json={"email": email, "password": PASSWORD})).json()["token"]
    before = await account_state(conn, email)
    statuses = []
    for n in range(settings.sign_in_failures_per_account + 2):
        answer = await client_with(settings, f"192.0.2.{n + 1}").post(
            "/api/organiser/password",
            headers=auth(token),
            json={"current_password": f"guess {n}", "new_password": "the attacker's password"},
        )
        statuses.append(answer.status_code)
    assert statuses == [422] * settings.sign_in_failures_per_account + [429, 429]
    right = await http.post(
        "/api/organiser/password",
        headers=auth(token),
        json={"current_password": PASSWORD, "new_password": "the attacker's password"},
    )
    assert right.status_code == 429 and "retry-after" in right.headers
    assert await account_state(conn, email) == before
    # the account's login is held back as well: the same counter
    login = await client_with(settings, "192.0.2.200").post(
        "/api/organiser/login", json={"email": email, "password": PASSWORD}
    )
    assert login.status_code == 429


async def test_probing_invitation_links_is_limited_per_client_address(client_with, conn, world, settings) -> None:
    limited = msgspec.structs.replace(settings, sign_in_failures_per_address=3)
    admin = client_with(limited, "192.0.2.1")
    answer = await admin.post(
        "/api/organiser/invitations",
        headers=auth(world["root_token"]),
        json={"email": "probe@example.org", "name": "Probe", "memberships": []},
    )
    link = await open_link(conn, settings, answer.json()["id"])
    prober = client_with(limited, "198.51.100.40", html=True)
    statuses = [(await prober.get(f"/organiser/invitations/{'A' * 42}{n}")).status_code for n in range(3)]
    assert statuses == [410, 410, 410]
    assert (await prober.get(link)).status_code == 429  # even the good link, from that address
    assert (await client_with(limited, "198.51.100.41", html=True).get(link)).status_code == 200


# ---------------------------------------------------------------------------- end to end, through the mail


async def test_invitation_mail_link_password_and_login_end_to_end(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    from server.notifications.worker import Notifier
    from server.outbox import message_id

    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    await create_organisation(conn, "clae", "CLAE")
    inviter, token = await create_organiser(conn, {"asti": "admin", "clae": "admin"})
    await conn.execute("UPDATE organisers SET name = 'Maria Schmit' WHERE id = $1", inviter.id)
    app = app_on(notifier_settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        people = {
            "de": ("jonas@example.org", "Jonas Weber", [{"organisation": "asti", "role": "organiser"}]),
            "lb": (
                "Nathalie@Example.org",
                "Nathalie Hoffmann",
                [{"organisation": "asti", "role": "viewer"}, {"organisation": "clae", "role": "admin"}],
            ),
        }
        for lang, (email, name, memberships) in people.items():
            answer = await http.post(
                "/api/organiser/invitations",
                headers=auth(token),
                json={"email": email, "name": name, "memberships": memberships, "language": lang},
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["invitation_sent"] is True
        rows = await conn.fetch(
            "SELECT id, recipient, language, status FROM outbox WHERE kind = 'organiser_invitation' ORDER BY id"
        )
        assert [(r["recipient"], r["language"], r["status"]) for r in rows] == [
            ("jonas@example.org", "de", "queued"),
            ("nathalie@example.org", "lb", "queued"),
        ]

        assert await Notifier(notifier_settings).drain(notifier_pool) == 2
        received = {item.message_id: item for item in await smtp_server.wait_for(2)}
        mails = {}
        for row in rows:
            item = received[message_id(row["id"], notifier_settings.mail_from)]
            assert item.rcpt_tos == [row["recipient"]]
            message = item.message
            text = message.get_body(("plain",)).get_content()
            html = message.get_body(("html",)).get_content()
            link = re.search(r"https://zesummen\.test(/organiser/invitations/[A-Za-z0-9_-]{43})\?lang=(\w\w)", text)
            assert link and link.group(2) == row["language"] and link.group(0) in html.replace("&amp;", "&")
            assert message["Content-Language"] == row["language"] and "Maria Schmit" in text and "48" in text
            mails[row["language"]] = (message["Subject"], text, html, link.group(1))
        subject, text, html, link_de = mails["de"]
        assert subject == "Ihr Zesummen-Konto: Wählen Sie Ihr Passwort"
        assert "Maria Schmit hat Sie zu Zesummen eingeladen" in text
        assert "ASTI: Veranstaltungen anlegen und verwalten" in text
        assert "gilt 48 Stunden, bis" in text and "Guten Tag Jonas Weber," in text
        subject, text, html, link_lb = mails["lb"]
        assert subject == "Ären Zesummen-Kont: Wielt Äert Passwuert"
        assert "Maria Schmit huet Iech op Zesummen invitéiert" in text and "Moien Nathalie Hoffmann," in text
        assert "CLAE: Evenementer an d'Equipe geréieren" in text and "ASTI: Evenementer an Umeldunge kucken" in text
        assert "CLAE: Evenementer an d'Equipe geréieren</li>" in unescape(html)

        pages = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver", headers=HTML)
        page = await pages.get(link_lb, params={"lang": "lb"})
        assert page.status_code == 200 and '<html lang="lb">' in page.text
        assert "nathalie@example.org" in text_of(page) and 'autocomplete="new-password"' in page.text
        form = {"csrf_token": csrf_token(page)}
        short = await pages.post(f"{link_lb}?lang=lb", data={**form, "password": "kuerz", "password_confirm": "kuerz"})
        assert short.status_code == 422
        assert re.search(r'id="f-password-error">.*Wielt w\.e\.g\. e Passwuert mat mindestens 12 Zeechen\.', short.text)
        differ = await pages.post(
            f"{link_lb}?lang=lb", data={**form, "password": PASSWORD, "password_confirm": PASSWORD + "!"}
        )
        assert differ.status_code == 422 and "Déi zwee Passwierder sinn net d&#39;selwecht." in differ.text
        saved = await pages.post(
            f"{link_lb}?lang=lb", data={**form, "password": PASSWORD, "password_confirm": PASSWORD}
        )
        assert saved.status_code == 303 and saved.headers["location"] == "/organiser/password-saved?lang=lb"
        done = await pages.get(saved.headers["location"])
        assert "Äert Passwuert ass gespäichert" in text_of(done)

        login = await http.post("/api/organiser/login", json={"email": "NATHALIE@example.org", "password": PASSWORD})
        assert login.status_code == 200
        me = (await http.get("/api/organiser/me", headers=auth(login.json()["token"]))).json()
        assert sorted(me["roles"].values()) == ["admin", "viewer"] and me["is_admin"] is False

        # the link again: refused, and the password stays
        stored = await conn.fetchval("SELECT password_hash FROM organisers WHERE email = 'nathalie@example.org'")
        assert (await pages.get(link_lb)).status_code == 410
        other = "another password!"
        again = await pages.post(link_lb, data={**form, "password": other, "password_confirm": other})
        assert again.status_code == 410
        assert (
            await conn.fetchval("SELECT password_hash FROM organisers WHERE email = 'nathalie@example.org'") == stored
        )
        # a spent invitation's mail is not sent again (a resend or a retry comes to nothing)
        with pytest.raises(Skip):
            row = await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", rows[1]["id"])
            await build_message(conn, row, notifier_settings)
        # the other person's link still works, in their language
        page_de = await pages.get(link_de, params={"lang": "de"})
        assert page_de.status_code == 200 and "Wählen Sie Ihr Passwort" in text_of(page_de)
        await pages.aclose()


async def test_create_admin_keeps_working_and_revokes_through_the_same_function(conn, settings) -> None:
    first = await accounts.create_admin(conn, "Root@Example.LU", timedelta(hours=1))
    second = await accounts.create_admin(conn, "root@example.lu", timedelta(hours=1))
    live = await conn.fetch(
        "SELECT token_hash FROM api_tokens t JOIN organisers o ON o.id = t.organiser_id "
        "WHERE o.email = 'root@example.lu' AND t.revoked_at IS NULL"
    )
    assert [bytes(r["token_hash"]) for r in live] == [accounts.hash_token(second.token)]
    assert first.token != second.token


# ---------------------------------------------------------------------------- concurrent guesses


@pytest.fixture
async def committed_account(pool, settings):
    """An account committed to the database, so that requests on several pooled connections see it."""
    email = f"guessed-{secrets.token_hex(4)}@example.org"
    await pool.execute(
        "INSERT INTO organisers (email, name, password_hash) VALUES ($1, 'Guessed', $2)",
        email,
        accounts._hasher.hash(PASSWORD),
    )
    yield email
    await pool.execute("DELETE FROM organisers WHERE email = $1", email)
    await pool.execute("DELETE FROM rate_limits WHERE key LIKE 'sign-in-%'")


@pytest.fixture(scope="module")
async def two_servers(database_url: str, settings: Settings):
    """Two granian processes serving the app (and the racy control) with 5 failures allowed per account."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "NOTIFIER": "0",
        "SIGN_IN_FAILURES_PER_ACCOUNT": "5",
        "SIGN_IN_FAILURES_PER_ADDRESS": "1000",
    }
    async with web_servers(env, count=2, app="tests.race_app:app_from_env") as clients:
        yield clients


async def concurrent_guesses(servers: list[httpx.AsyncClient], path: str, email: str, count: int) -> list[int]:
    answers = await race(servers, [("POST", path, {"email": email, "password": f"guess {n}"}) for n in range(count)])
    return sorted(answer.status_code for answer in answers)


async def test_control_checking_before_counting_lets_concurrent_guesses_past_the_limit(
    two_servers,
    committed_account,
) -> None:
    statuses = await concurrent_guesses(two_servers, "/test/racy-login", committed_account, 40)
    assert statuses.count(401) > 5, statuses  # the harness sees the race


async def test_concurrent_guesses_never_get_past_the_limit(two_servers, committed_account) -> None:
    statuses = await concurrent_guesses(two_servers, "/api/organiser/login", committed_account, 40)
    assert statuses == [401] * 5 + [429] * 35

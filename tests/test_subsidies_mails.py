"""Subsidy requests end to end through HTTP, the notifier and a real SMTP server, in two languages."""

from __future__ import annotations

from datetime import timedelta

import httpx

from server.subsidies import deadlines
from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.test_subsidies import API, PDF, draft_body, set_themes


async def test_the_whole_path_reaches_each_association_in_its_language(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    from server.notifications.worker import Notifier
    from server.outbox import message_id

    conn = notifier_conn
    tokens = {}
    for slug, name in (("clae", "CLAE"), ("cefis", "CEFIS")):
        await create_organisation(conn, slug, name)
        await conn.execute("UPDATE organisations SET kind = 'asbl' WHERE slug = $1", slug)
        tokens[slug] = (await create_organiser(conn, {slug: "admin"}))[1]
    reviewer, tokens["reviewer"] = await create_organiser(conn, {})
    await conn.execute("UPDATE organisers SET is_reviewer = true WHERE id = $1", reviewer.id)
    today = deadlines.today_in_luxembourg()
    await set_themes(conn, today.year, today.year + 1)
    app = app_on(notifier_settings, conn)
    ids = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        for slug, lang, email in (("clae", "pt", "direcao@clae.example"), ("cefis", "de", "buero@cefis.example")):
            body = draft_body(
                language=lang,
                contact_email=email,
                title={"fr": f"Projet {slug}", "de": f"Projekt {slug}", "pt": f"Projeto {slug}"},
            )
            created = await http.post(API, json={"organisation": slug, **body}, headers=auth(tokens[slug]))
            assert created.status_code == 201, created.text
            ids[slug] = created.json()["id"]
            for kind in ("statutes", "accounts"):
                uploaded = await http.post(
                    f"{API}/{ids[slug]}/documents",
                    data={"kind": kind},
                    files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
                    headers=auth(tokens[slug]),
                )
                assert uploaded.status_code == 201
            assert (await http.post(f"{API}/{ids[slug]}/submit", headers=auth(tokens[slug]))).status_code == 200
        asked = await http.post(
            f"{API}/{ids['clae']}/questions",
            json={"body": "Quantas sessões?\nObrigado"},
            headers=auth(tokens["reviewer"]),
        )
        assert asked.status_code == 201
        answered = await http.post(
            f"{API}/{ids['clae']}/answers", json={"body": "Quatro."}, headers=auth(tokens["clae"])
        )
        assert answered.json()["status"] == "submitted"
        granted = await http.post(
            f"{API}/{ids['clae']}/decision",
            headers=auth(tokens["reviewer"]),
            json={"outcome": "eligible", "amount_granted_cents": 125050},
        )
        assert granted.json()["status"] == "eligible"
        refused = await http.post(
            f"{API}/{ids['cefis']}/decision",
            headers=auth(tokens["reviewer"]),
            json={"outcome": "not_eligible", "reason": "Kein innovatives Projekt."},
        )
        assert refused.json()["status"] == "not_eligible"
        rows = await conn.fetch("SELECT id, kind, recipient, language FROM outbox ORDER BY id")
        assert [(r["kind"], r["recipient"], r["language"]) for r in rows] == [
            ("subsidy_question", "direcao@clae.example", "pt"),
            ("subsidy_decision", "direcao@clae.example", "pt"),
            ("subsidy_decision", "buero@cefis.example", "de"),
        ]
        assert await Notifier(notifier_settings).drain(notifier_pool) == 3
        received = {item.message_id: item for item in await smtp_server.wait_for(3)}
        mails = []
        for row in rows:
            item = received[message_id(row["id"], notifier_settings.mail_from)]
            assert item.rcpt_tos == [row["recipient"]]
            subject = " ".join(str(item.message["Subject"]).split())
            mails.append(
                (
                    item.message["Content-Language"],
                    subject,
                    item.message.get_body(("plain",)).get_content(),
                    item.message.get_body(("html",)).get_content(),
                )
            )
    question, granted_mail, refused_mail = mails
    lang, subject, text, html = question
    assert (
        lang == "pt"
        and subject == "Uma pergunta do Departamento da Integração sobre o seu pedido de subsídio «Projeto clae»"
    )
    assert "Olá, CLAE," in text and "Quantas sessões?\r\nObrigado" in text and "Quantas sessões?<br>Obrigado" in html
    assert f"https://zesummen.test/organiser/subsidies/{ids['clae']}" in text
    lang, subject, text, html = granted_mail
    assert lang == "pt" and subject == "O seu pedido de subsídio «Projeto clae» foi aceite"
    assert "elegível e concede-lhe 1\u00a0250,50\u00a0€." in text and "breve relatório" in text
    lang, subject, text, html = refused_mail
    assert lang == "de" and subject == "Ihr Zuschussantrag „Projekt cefis“ ist nicht bewilligt"
    assert "Guten Tag CEFIS," in text and "Kein innovatives Projekt." in text and "Kein innovatives Projekt." in html


async def test_the_deadline_reminder_goes_out_in_french(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
) -> None:
    from server.notifications.worker import Notifier

    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    await conn.execute("UPDATE organisations SET kind = 'federation' WHERE slug = 'asti'")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    today = deadlines.today_in_luxembourg()
    await set_themes(conn, today.year, today.year + 1)
    starts_on = today + timedelta(days=50)
    app = app_on(notifier_settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        created = await http.post(
            API, json={"organisation": "asti", "language": "fr", **draft_body(starts_on=starts_on)}, headers=auth(token)
        )
        assert created.status_code == 201
    assert await deadlines.remind_deadlines(conn, notifier_settings) == 1
    assert await Notifier(notifier_settings).drain(notifier_pool) == 1
    [item] = await smtp_server.wait_for(1)
    subject = " ".join(str(item.message["Subject"]).split())
    assert subject.startswith("Déposez votre demande de subside au plus tard le ")
    text = item.message.get_body(("plain",)).get_content()
    assert "six semaines avant" in text and "Bonjour ASTI," in text

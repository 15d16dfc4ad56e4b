"""A document over the size limit (issue 26): 422 naming the field, for the API and next to the page's
field, its body drained without being kept; an absurd body still refused with 413 before it is read."""

from __future__ import annotations

import tracemalloc

from server.transport import DRAIN_BYTES
from tests.factories import auth
from tests.test_pages import csrf_token, text_of
from tests.test_subsidies import API, PDF, fields, new_draft, upload, world  # noqa: F401  (the fixture)
from tests.test_subsidies_pages import people, signed_in, start_draft  # noqa: F401  (the fixture)

BOUNDARY = "zesummen-test-boundary"
MB = 1024 * 1024


class Multipart:
    """A multipart body of `kind` (and a CSRF token) and a PDF file of `size` bytes, sent in 64 KiB chunks,
    counting the chunks the service asked for."""

    def __init__(self, size: int, csrf: str = "") -> None:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nstatutes\r\n'
        if csrf:
            head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="statuts.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        self.head, self.tail = head.encode() + PDF, f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size, self.pulled = size, 0
        self.length = len(self.head) + size + len(self.tail)

    async def __aiter__(self):
        self.pulled += 1
        yield self.head
        zeros, left = b"\x00" * 65536, self.size
        while left > 0:
            self.pulled += 1
            yield zeros[: min(left, 65536)]
            left -= 65536
        yield self.tail

    def headers(self) -> dict[str, str]:
        return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(self.length)}


async def test_a_20_mb_file_is_refused_with_422_naming_the_field_without_being_kept(client, conn, world) -> None:  # noqa: F811
    draft = await new_draft(client, world["asti"])
    body = Multipart(20 * MB)
    tracemalloc.start()
    try:
        answer = await client.post(
            f"{API}/{draft['id']}/documents", content=body, headers={**body.headers(), **auth(world["asti"])}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert fields(answer) == ["file"] and "10 MB" in answer.json()["errors"][0]["message"]
    assert body.pulled > 300  # read to its end (so a browser reads the answer) ...
    assert peak < 8 * MB, peak  # ... and never held: 20 MB went through
    assert await conn.fetchval("SELECT count(*) FROM subsidy_documents") == 0
    # the same with the file as httpx builds it
    answer = await upload(client, world["asti"], draft["id"], content=PDF + b"\x00" * (20 * MB))
    assert answer.status_code == 422 and fields(answer) == ["file"]


async def test_an_absurd_body_is_refused_with_413_before_it_is_read(client, world) -> None:  # noqa: F811
    draft = await new_draft(client, world["asti"])
    body = Multipart(DRAIN_BYTES + MB)
    answer = await client.post(
        f"{API}/{draft['id']}/documents", content=body, headers={**body.headers(), **auth(world["asti"])}
    )
    assert answer.status_code == 413 and fields(answer) == ["file"]
    assert body.pulled == 0


async def test_a_body_longer_than_announced_is_cut_at_the_drain(client, world) -> None:  # noqa: F811
    draft = await new_draft(client, world["asti"])
    body = Multipart(DRAIN_BYTES + MB)
    headers = {**body.headers(), "Content-Length": str(20 * MB), **auth(world["asti"])}
    answer = await client.post(f"{API}/{draft['id']}/documents", content=body, headers=headers)
    assert answer.status_code == 413 and fields(answer) == ["file"]
    assert body.pulled * 65536 < DRAIN_BYTES + 2 * MB  # it stopped reading at the ceiling


async def test_the_page_shows_the_form_again_with_the_error_next_to_the_file(conn, settings, people) -> None:  # noqa: F811
    async with signed_in(conn, settings, people["asti"], lang="de") as http:
        application_id, token = await start_draft(http)
        body = Multipart(20 * MB, csrf=token)
        answer = await http.post(
            f"/organiser/subsidies/{application_id}/documents", content=body, headers=body.headers()
        )
        assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
        assert "Datei von höchstens 10 MB" in text_of(answer) and 'id="f-file-error"' in answer.text
        assert 'enctype="multipart/form-data"' in answer.text and csrf_token(answer)
        # the same, a little over the limit: drained too
        body = Multipart(11 * MB, csrf=token)
        answer = await http.post(
            f"/organiser/subsidies/{application_id}/documents", content=body, headers=body.headers()
        )
        assert answer.status_code == 422 and 'id="f-file-error"' in answer.text
    assert await conn.fetchval("SELECT count(*) FROM subsidy_documents") == 0
    # another association's staff learn nothing from an oversize body either
    async with signed_in(conn, settings, people["clae"]) as http:
        body = Multipart(20 * MB)
        answer = await http.post(
            f"/organiser/subsidies/{application_id}/documents", content=body, headers=body.headers()
        )
        assert answer.status_code == 404

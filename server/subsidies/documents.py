"""Supporting documents of subsidy requests: judged by their content, kept outside the hot rows."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import asyncpg

from server.audit import record
from server.errors import Invalid, NotFound
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.subsidies import queries as q
from server.subsidies.schemas import DocumentOut
from server.subsidies.service import access, as_applicant, document_url, editable

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 20
TOO_LARGE = f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."
# what a file's first bytes say it is, and the names it may carry
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def safe_filename(name: str) -> str:
    """The file's own name without folders, control characters or quotes, at most 200 characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C" and c not in '"')
    return base.strip()[-200:] or "document"


def sniff(content: bytes) -> str | None:
    """The media type the content's first bytes announce (PDF, PNG, JPEG), else None."""
    return next((media for magic, media in MAGIC if content.startswith(magic)), None)


def check_document(filename: str, content: bytes) -> str:
    """The document's media type, judged by its content and agreeing with its name; 422 on `file` otherwise."""
    if not content:
        raise Invalid.field("file", "The file is empty.")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Invalid.field("file", TOO_LARGE)
    media = sniff(content)
    if media is None:
        raise Invalid.field("file", "Only PDF, PNG and JPEG files are accepted.")
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if EXTENSIONS.get(extension) != media:
        raise Invalid.field(
            "file",
            f"The file's content is {media.split('/')[-1].upper()} but its name says "
            f"otherwise ({extension or 'no extension'}).",
        )
    return media


async def add_document(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    kind: str,
    filename: str,
    content: bytes,
    settings: Settings,
) -> DocumentOut:
    """Store a supporting document: type judged by content, size limited, bytes outside the hot rows."""
    editable(await as_applicant(conn, organiser, application_id))  # a stranger learns nothing of the file
    if kind not in ("statutes", "accounts", "quote", "other"):
        raise Invalid.field("kind", "Choose statutes, accounts, quote or other.")
    name = safe_filename(filename)
    media = check_document(name, content)
    async with conn.transaction():
        row = await as_applicant(conn, organiser, application_id)
        editable(row)
        if await conn.fetchval(q.DOCUMENT_COUNT, application_id) >= MAX_DOCUMENTS:
            raise Invalid.field("file", f"A request holds at most {MAX_DOCUMENTS} documents.")
        document_id = await conn.fetchval(
            q.INSERT_DOCUMENT,
            application_id,
            kind,
            name,
            media,
            len(content),
            hashlib.sha256(content).digest(),
            organiser.id or None,
        )
        await conn.execute(q.INSERT_DOCUMENT_CONTENT, document_id, content)
        await record(
            conn,
            organiser,
            "subsidy_document_added",
            organisation_id=row["organisation_id"],
            detail={"application": application_id, "document": document_id, "kind": kind},
        )
        created_at = await conn.fetchval(q.DOCUMENT_CREATED_AT, document_id)
    return DocumentOut(
        id=document_id,
        kind=kind,
        filename=name,
        media_type=media,
        size_bytes=len(content),
        created_at=created_at,
        url=document_url(settings, application_id, document_id),
    )


async def remove_document(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    document_id: int,
) -> None:
    """Take a document out of a request the association may still change."""
    async with conn.transaction():
        row = await as_applicant(conn, organiser, application_id)
        editable(row)
        if await conn.fetchval(q.DELETE_DOCUMENT, application_id, document_id) is None:
            raise NotFound("No document with this id in this request.")
        await record(
            conn,
            organiser,
            "subsidy_document_removed",
            organisation_id=row["organisation_id"],
            detail={"application": application_id, "document": document_id},
        )


async def read_document(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    document_id: int,
) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of a document, for a person who may see the request; 404 otherwise."""
    await access(conn, organiser, application_id)
    document = await conn.fetchrow(q.DOCUMENT, application_id, document_id)
    if document is None:
        raise NotFound("No document with this id in this request.")
    content = await conn.fetchval(q.DOCUMENT_CONTENT, document_id)
    return document["filename"], document["media_type"], bytes(content)

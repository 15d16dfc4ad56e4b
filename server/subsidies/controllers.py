"""Thin handlers of the subsidy requests' API: the association's drafts, the department's review."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import asyncpg
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter

from server.errors import Invalid
from server.openapi import problem_response
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.subsidies import documents, export, review, service, submission
from server.subsidies.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    DecisionIn,
    DocumentOut,
    MessageIn,
    NewApplicationIn,
    OrganisationKindIn,
    ReportIn,
    ReviewerIn,
    Status,
    ThemesIn,
    ThemesOut,
)
from server.transport import body_dropped

ApplicationId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The request's id")]
YearPath = Annotated[int, Parameter(ge=2000, le=2100, description="A year")]
DocumentId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The document's id")]
NOT_YOURS = problem_response(
    404, "No request with this id among your associations' (or, for a reviewer, the submitted ones)"
)
REFUSED = problem_response(422, "A field is refused, named in `errors`")
# a document of 10 MB and the form around it
UPLOAD_BODY_BYTES = documents.MAX_DOCUMENT_BYTES + 64 * 1024


def attachment(filename: str, media_type: str, content: bytes) -> Response[bytes]:
    """A download that browsers save rather than show: attachment, its own type, never sniffed or cached."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


class OrganiserSubsidyController(Controller):
    """Associations file subsidy requests; the department's reviewers judge them."""

    path = "/api/organiser/subsidies"
    tags = ["subsidies"]
    security = [{"bearer": []}]

    @get("")
    async def list_applications(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        status: Annotated[Status | None, Parameter(description="Only requests in this status")] = None,
    ) -> ApplicationPage:
        """Your associations' requests and, for a reviewer, every submitted one; newest first."""
        return ApplicationPage(items=await service.list_applications(conn, organiser, status, settings))

    @post(
        "",
        status_code=201,
        responses={
            403: problem_response(
                403,
                "The organisation is not an asbl or a federation (`applicant_kind`), or your role in it is read-only",
            ),
            422: REFUSED,
        },
    )
    async def create(
        self,
        data: NewApplicationIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        language: str,
    ) -> ApplicationOut:
        """Start a draft for one of your associations; it keeps whatever is typed until submission."""
        return await service.create_application(conn, organiser, data, settings, language)

    @get("/{application_id:int}", responses={404: NOT_YOURS})
    async def get_application(
        self,
        application_id: ApplicationId,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """One request with its budget, documents, thread, checklist, deadline and report."""
        return await service.get_application(conn, organiser, application_id, settings)

    @put("/{application_id:int}", responses={404: NOT_YOURS, 422: REFUSED})
    async def save(
        self,
        application_id: ApplicationId,
        data: ApplicationIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """Save the draft as typed (while a draft, or while a question waits); reviewers cannot edit."""
        return await service.save_draft(conn, organiser, application_id, data, settings)

    @post(
        "/{application_id:int}/submit",
        status_code=200,
        responses={
            404: NOT_YOURS,
            422: problem_response(
                422,
                "Something is missing or wrong, named in `errors`; `too_late` when the project "
                "starts in fewer than 42 days, with the day it had to be submitted by",
            ),
        },
    )
    async def submit(
        self,
        application_id: ApplicationId,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """Send the draft to the department, at the latest 42 days (Luxembourg's calendar) before it starts."""
        return await submission.submit(conn, organiser, application_id, settings)

    @post(
        "/{application_id:int}/documents",
        status_code=201,
        opt={"max_body_bytes": UPLOAD_BODY_BYTES, "body_field": "file"},
        request_max_body_size=UPLOAD_BODY_BYTES,
        responses={
            404: NOT_YOURS,
            413: problem_response(413, "A body over 64 MB, refused unread"),
            422: problem_response(
                422,
                "`file` larger than 10 MB, not a PDF, PNG or JPEG by its content, or with a name that says "
                "otherwise; or an unknown `kind`",
            ),
        },
    )
    async def add_document(
        self,
        application_id: ApplicationId,
        request: Request,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> DocumentOut:
        """Add a document (multipart form: `kind` statutes, accounts, quote or other, and `file`)."""
        if body_dropped(request):
            raise Invalid.field("file", documents.TOO_LARGE)
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Invalid.field("file", "Send the document as the multipart field `file`.")
        content = await upload.read()
        return await documents.add_document(
            conn, organiser, application_id, str(form.get("kind", "")), upload.filename or "", content, settings
        )

    @get("/{application_id:int}/documents/{document_id:int}", responses={404: NOT_YOURS})
    async def download(
        self,
        application_id: ApplicationId,
        document_id: DocumentId,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> Response[bytes]:
        """A document, as an attachment, to those who may see the request."""
        filename, media_type, content = await documents.read_document(conn, organiser, application_id, document_id)
        return attachment(filename, media_type, content)

    @delete("/{application_id:int}/documents/{document_id:int}", status_code=204, responses={404: NOT_YOURS})
    async def remove_document(
        self,
        application_id: ApplicationId,
        document_id: DocumentId,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> None:
        """Take a document out of a request that can still change."""
        await documents.remove_document(conn, organiser, application_id, document_id)

    @post("/{application_id:int}/questions", status_code=201, responses={404: NOT_YOURS})
    async def ask(
        self,
        application_id: ApplicationId,
        data: MessageIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """A reviewer asks the association: by mail and in the thread; the request awaits the answer."""
        return await review.ask(conn, organiser, application_id, data.body, settings)

    @post("/{application_id:int}/answers", status_code=201, responses={404: NOT_YOURS})
    async def answer(
        self,
        application_id: ApplicationId,
        data: MessageIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """The association answers; the request goes back to the reviewers."""
        return await review.answer(conn, organiser, application_id, data.body, settings)

    @post("/{application_id:int}/decision", status_code=200, responses={404: NOT_YOURS, 422: REFUSED})
    async def decide(
        self,
        application_id: ApplicationId,
        data: DecisionIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """A reviewer decides: `eligible` with the amount granted, or `not_eligible` with the reason."""
        return await review.decide(conn, organiser, application_id, data, settings)

    @put("/{application_id:int}/report", responses={404: NOT_YOURS, 422: REFUSED})
    async def report(
        self,
        application_id: ApplicationId,
        data: ReportIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """After the project: what happened, attendance (the linked events' by default), the actual budget."""
        return await review.file_report(conn, organiser, application_id, data, settings)

    @post("/{application_id:int}/close", status_code=200, responses={404: NOT_YOURS, 422: REFUSED})
    async def close(
        self,
        application_id: ApplicationId,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> ApplicationOut:
        """A reviewer closes the file (a funded project once its report is in)."""
        return await review.close(conn, organiser, application_id, settings)

    @get("/granted/{year:int}", media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    async def granted(
        self,
        year: YearPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        language: str,
    ) -> Response[bytes]:
        """The year's granted subsidies by theme and association, as a spreadsheet (reviewers)."""
        content = await export.granted_workbook(conn, organiser, year, language)
        return attachment(f"subsidies-{year}.xlsx", export.XLSX, content)

    @get("/themes/{year:int}")
    async def themes(self, year: YearPath, conn: asyncpg.Connection, organiser: Organiser) -> ThemesOut:
        """The themes of a year, the department's priorities first."""
        return await review.themes(conn, year)

    @put("/themes/{year:int}", responses={403: problem_response(403, "Only reviewers write the themes")})
    async def set_themes(
        self,
        year: YearPath,
        data: ThemesIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> ThemesOut:
        """Reviewers write the year's themes and mark its priorities; themes in use stay."""
        return await review.set_themes(conn, organiser, year, data)

    @put("/organisations/{slug:str}/kind", status_code=204)
    async def set_kind(
        self,
        slug: Annotated[str, Parameter(max_length=63)],
        data: OrganisationKindIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> None:
        """Administrators record whether an organisation is an asbl, a federation or another kind."""
        await review.set_organisation_kind(conn, organiser, slug, data.kind)

    @put("/reviewers/{organiser_id:int}", status_code=204)
    async def set_reviewer(
        self,
        organiser_id: Annotated[int, Parameter(ge=1, le=2**63 - 1)],
        data: ReviewerIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> None:
        """Administrators make an account one of the department's reviewers, or no longer."""
        await review.set_reviewer(conn, organiser, organiser_id, data.reviewer)

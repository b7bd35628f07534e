"""/api/v1/orders/{order_id}/attachments: upload a PDF or image to an order in scope, and download it.

The order is checked first (permission, scope: 403/404 with nothing written); then the bytes go to the
`FileStore` under `orders/{order_id}/{attachment_id}`, and the attachment record is added to the order after
that — the bytes are removed again if the order refuses it meanwhile. A crash between the two leaves at most an
unreferenced file, never a record without bytes. The stored name carries the extension of the detected type and
the download is always `Content-Disposition: attachment`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

import structlog
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_415_UNSUPPORTED_MEDIA_TYPE

from crm_domain.app import Crm
from crm_domain.errors import EntityNotFound, ValidationFailed
from crm_domain.orders import Attachment
from crm_domain.ports import FileStore
from crm_domain.users import Actor
from entrypoints.http.deps import ActorDep, CrmDep, FilesDep
from entrypoints.http.schemas.attachments import (
    ALLOWED_TYPES,
    attachment_out,
    content_disposition,
    safe_filename,
    sniff_content_type,
)
from entrypoints.http.schemas.orders import AttachmentOut

MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
#: Room for the multipart boundaries and part headers around a file of the maximum size.
MULTIPART_OVERHEAD: Final = 64 * 1024
_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

log = structlog.get_logger(__name__)

UploadForm = Annotated[
    dict[str, Any],
    Body(
        media_type=RequestEncodingType.MULTI_PART,
        title="Attachment upload",
        description="multipart/form-data with exactly one part, `file`: a PDF, PNG, JPEG or WebP of at most 10 MiB.",
        schema_extra={
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
            "additionalProperties": False,
        },
    ),
]


def _the_file(form: dict[str, Any]) -> UploadFile:
    if set(form) != {"file"}:
        raise ValidationFailed("send exactly one multipart part, named `file`", field="file")
    upload = form["file"]
    if not isinstance(upload, UploadFile):
        raise ValidationFailed("`file` must be one file", field="file")
    return upload


class AttachmentController(Controller):
    path = "/orders/{order_id:str}/attachments"
    tags = ["orders"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="uploadOrderAttachment",
        sync_to_thread=True,
        request_max_body_size=MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD,
        summary="Attach a PDF or image (up to 10 MiB, type checked by content) to an order",
    )
    def upload(
        self, crm: CrmDep, actor: ActorDep, files: FilesDep, order_id: FromPath[str], data: UploadForm
    ) -> AttachmentOut:
        return attachment_out(store_attachment(crm, actor, files, order_id, _the_file(data)))

    @get(
        "/{attachment_id:str}",
        operation_id="downloadOrderAttachment",
        sync_to_thread=True,
        media_type="application/octet-stream",
        summary="Download an attachment of an order in scope, with its detected content type",
    )
    def download(
        self, crm: CrmDep, actor: ActorDep, files: FilesDep, order_id: FromPath[str], attachment_id: FromPath[str]
    ) -> Response[bytes]:
        return attachment_download(crm, actor, files, order_id, attachment_id)


def store_attachment(crm: Crm, actor: Actor, files: FileStore, order_id: str, upload: UploadFile) -> Attachment:
    """Check and store an uploaded file, then add it to the order (the API's upload and the order page's)."""
    content = upload.file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise RequestEntityTooLarge(detail=f"an attachment may be at most {MAX_ATTACHMENT_BYTES} bytes")
    if not content:
        raise ValidationFailed("the file is empty", field="file")
    content_type = sniff_content_type(content)
    if content_type is None:
        raise ClientException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"the file is not one of {', '.join(ALLOWED_TYPES)} (told by its content)",
        )
    if not _ORDER_ID.fullmatch(order_id):
        raise EntityNotFound("order", order_id)
    crm.orders.check_attachable(actor, order_id)  # nothing is written for an order out of reach
    attachment = Attachment(
        id=crm.ctx.ids.new_id(),
        filename=safe_filename(upload.filename, content_type),
        content_type=content_type,
        size=len(content),
        uploaded_by=actor.id,
        uploaded_at=crm.ctx.now(),
    )
    key = f"orders/{order_id}/{attachment.id}"
    files.put(key, content, content_type)
    try:
        crm.orders.add_attachment(actor, order_id, attachment)
    except BaseException:
        files.delete(key)
        raise
    return attachment


def attachment_download(crm: Crm, actor: Actor, files: FileStore, order_id: str, attachment_id: str) -> Response[bytes]:
    """An attachment of an order in scope, as a download (the API's and the order page's)."""
    order = crm.orders.get(actor, order_id)
    attachment = next((a for a in order.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise EntityNotFound("attachment", attachment_id)
    content = files.get(f"orders/{order.id}/{attachment.id}")
    if content is None:
        log.warning("attachment bytes missing", order_id=order.id, attachment_id=attachment.id)
        raise EntityNotFound("attachment", attachment_id)
    return Response(
        content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )

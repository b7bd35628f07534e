"""Order attachment rules at the edge: what an upload may be (told by its first bytes, never by the name or
the declared type), how its file name is made safe, and the attachment shape (`AttachmentOut`, shared with
the order)."""

from __future__ import annotations

import unicodedata
from typing import Final
from urllib.parse import quote

from crm_domain.orders import Attachment
from entrypoints.http.schemas.orders import AttachmentOut

MAX_FILENAME: Final = 120

#: Content type by leading bytes ("magic numbers").
_EXTENSIONS: Final = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
#: Extensions a name may keep for each type (any case); another is replaced by the type's own.
_KEEPS: Final = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/webp": {"webp"},
}
ALLOWED_TYPES: Final = tuple(_EXTENSIONS)


def sniff_content_type(data: bytes) -> str | None:
    """The type of a PDF, PNG, JPEG or WebP file from its first bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_filename(raw: str | None, content_type: str) -> str:
    """The last path component of `raw`, letters, digits and `._- ()` only, no leading dots, at most
    `MAX_FILENAME` characters (keeping the extension); a generic name when nothing is left. The extension is the
    detected type's (`x.html` holding a PDF is kept as `x.pdf`), so no program opens it as something else."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch if ch.isalnum() or ch in "._- ()" else "_" for ch in name).strip(" .")
    if not name.strip("_"):
        name = "attachment"
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension.lower() in _KEEPS.get(content_type, set())):
        name = (stem if dot and stem else name) + _EXTENSIONS.get(content_type, "")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            name = stem[: MAX_FILENAME - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME].rstrip(" .")
    return name


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII `filename` and, for other characters, the RFC 6266 `filename*`."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        uploaded_by=attachment.uploaded_by,
        uploaded_at=attachment.uploaded_at,
    )

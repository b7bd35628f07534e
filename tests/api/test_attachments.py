"""/api/v1/orders/{id}/attachments over HTTP: PDFs and images only (told by their bytes), 10 MiB at most,
safe file names, byte-for-byte downloads, and the order's scope."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from adapters.mongo import MongoStore
from adapters.mongo.files import BUCKET
from tests.api.conftest import Api

MIB = 1024 * 1024
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


def png() -> bytes:
    """A real 2×1 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00\x00\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def upload(
    api: Api, user: Any, order_id: str, filename: str, content: bytes, declared: str = "application/pdf", **kw: Any
) -> Any:
    headers = api.login(user) if user is not None else {}
    return api.client.post(
        f"/api/v1/orders/{order_id}/attachments", files={"file": (filename, content, declared)}, headers=headers, **kw
    )


def stored_files(api: Api) -> list[str]:
    """The keys the file store holds: files under the files dir (embedded), or GridFS file names (production)."""
    store = api.container.uow
    if isinstance(store, MongoStore):
        return sorted(doc["filename"] for doc in store.db[f"{BUCKET}.files"].find({}, {"filename": 1}))
    root = api.container.settings.effective_files_dir
    found = (p for p in root.rglob("*") if p.is_file()) if root.exists() else ()
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in found)


def order_attachments(api: Api, order_id: str) -> list[dict[str, Any]]:
    order = api.client.get(f"/api/v1/orders/{order_id}", headers=api.login(api.admin)).json()
    return list(order["attachments"])


def _is_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail", "code"} <= set(response.json())


class TestUploadAndDownload:
    def test_a_pdf_round_trips_byte_for_byte(self, api: Api) -> None:
        order = api.order(api.rep)
        response = upload(api, api.rep, order["id"], "quote.pdf", PDF)
        assert response.status_code == 201, response.text
        attachment = response.json()
        assert attachment == {
            "id": attachment["id"],
            "filename": "quote.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "uploaded_by": api.rep.id,
            "uploaded_at": attachment["uploaded_at"],
        }
        assert order_attachments(api, order["id"]) == [attachment]

        download = api.client.get(
            f"/api/v1/orders/{order['id']}/attachments/{attachment['id']}", headers=api.login(api.rep)
        )
        assert download.status_code == 200, download.text
        assert download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"] == 'attachment; filename="quote.pdf"'
        assert download.headers["x-content-type-options"] == "nosniff"

    def test_a_png_round_trips_byte_for_byte_whatever_type_was_declared(self, api: Api) -> None:
        order = api.order(api.rep)
        image = png()
        response = upload(api, api.rep, order["id"], "site photo.png", image, declared="application/octet-stream")
        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == "image/png"
        download = api.client.get(
            f"/api/v1/orders/{order['id']}/attachments/{response.json()['id']}", headers=api.login(api.manager)
        )
        assert (download.content, download.headers["content-type"]) == (image, "image/png")
        assert download.headers["content-disposition"] == 'attachment; filename="site photo.png"'

    @pytest.mark.parametrize(("content", "detected"), [(JPEG, "image/jpeg"), (WEBP, "image/webp")])
    def test_jpeg_and_webp_are_accepted(self, api: Api, content: bytes, detected: str) -> None:
        order = api.order(api.rep)
        response = upload(api, api.rep, order["id"], "photo", content, declared="text/plain")
        assert response.status_code == 201, response.text
        assert response.json()["content_type"] == detected

    def test_the_bytes_are_stored_under_the_order_and_attachment_ids(self, api: Api) -> None:
        order = api.order(api.rep)
        attachment = upload(api, api.rep, order["id"], "quote.pdf", PDF).json()
        assert stored_files(api) == [f"orders/{order['id']}/{attachment['id']}"]
        if not isinstance(api.container.uow, MongoStore):  # the embedded layout: one file per attachment
            root = api.container.settings.effective_files_dir
            assert (root / "orders" / order["id"] / f"{attachment['id']}.bin").read_bytes() == PDF
        assert api.container.files.get(f"orders/{order['id']}/{attachment['id']}") == PDF

    def test_several_attachments_are_kept_apart(self, api: Api) -> None:
        order = api.order(api.rep)
        first = upload(api, api.rep, order["id"], "a.pdf", PDF).json()
        second = upload(api, api.dealer, order["id"], "b.png", png(), declared="image/png").json()
        assert [a["id"] for a in order_attachments(api, order["id"])] == [first["id"], second["id"]]
        assert second["uploaded_by"] == api.dealer.id
        url = f"/api/v1/orders/{order['id']}/attachments"
        assert api.client.get(f"{url}/{first['id']}", headers=api.login(api.rep)).content == PDF
        assert api.client.get(f"{url}/{second['id']}", headers=api.login(api.rep)).content == png()


class TestFileNames:
    @pytest.mark.parametrize(
        ("given", "kept"),
        [
            ("../../etc/passwd", "passwd.pdf"),
            ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
            ("/absolute/path/quote.pdf", "quote.pdf"),
            ("..", "attachment.pdf"),
            ('in"voice\r\n;x=1.pdf', "in_voice___x_1.pdf"),
            (".hidden.pdf", "hidden.pdf"),
            ("rechnung-müller.pdf", "rechnung-müller.pdf"),
        ],
    )
    def test_the_stored_name_is_sanitised(self, api: Api, given: str, kept: str) -> None:
        order = api.order(api.rep)
        response = upload(api, api.rep, order["id"], given, PDF)
        assert response.status_code == 201, response.text
        assert response.json()["filename"] == kept
        assert stored_files(api) == [f"orders/{order['id']}/{response.json()['id']}"]  # the name is not a path

    def test_long_names_are_cut_to_120_characters_keeping_the_extension(self, api: Api) -> None:
        order = api.order(api.rep)
        name = upload(api, api.rep, order["id"], "q" * 300 + ".pdf", PDF).json()["filename"]
        assert name == "q" * 116 + ".pdf"

    def test_a_non_ascii_name_is_offered_in_both_header_forms(self, api: Api) -> None:
        order = api.order(api.rep)
        attachment = upload(api, api.rep, order["id"], "müller.pdf", PDF).json()
        download = api.client.get(
            f"/api/v1/orders/{order['id']}/attachments/{attachment['id']}", headers=api.login(api.rep)
        )
        assert download.headers["content-disposition"] == (
            "attachment; filename=\"m_ller.pdf\"; filename*=UTF-8''m%C3%BCller.pdf"
        )


class TestRefusedUploads:
    def test_text_claiming_to_be_a_png_is_415(self, api: Api) -> None:
        order = api.order(api.rep)
        response = upload(
            api, api.rep, order["id"], "photo.png", b"just some text, not an image\n", declared="image/png"
        )
        _is_problem(response, 415)
        assert response.json()["code"] == "unsupported_media_type"
        assert order_attachments(api, order["id"]) == []
        assert stored_files(api) == []

    @pytest.mark.parametrize(
        "content",
        [
            b"<html><script>alert(1)</script></html>",
            b"GIF89a\x01\x00\x01\x00",
            b"PK\x03\x04zip",
            b"MZ\x90\x00exe",
            b"%PD",
            b"RIFF\x00\x00\x00\x00WAVE",
        ],
    )
    def test_other_types_are_415(self, api: Api, content: bytes) -> None:
        order = api.order(api.rep)
        _is_problem(upload(api, api.rep, order["id"], "file.pdf", content), 415)
        assert stored_files(api) == []

    def test_exactly_10_mib_is_accepted(self, api: Api) -> None:
        order = api.order(api.rep)
        content = PDF + b"\0" * (10 * MIB - len(PDF))
        response = upload(api, api.rep, order["id"], "big.pdf", content)
        assert response.status_code == 201, response.text[:500]
        assert response.json()["size"] == 10 * MIB
        download = api.client.get(
            f"/api/v1/orders/{order['id']}/attachments/{response.json()['id']}", headers=api.login(api.rep)
        )
        assert download.content == content

    def test_one_byte_more_is_413(self, api: Api) -> None:
        order = api.order(api.rep)
        response = upload(api, api.rep, order["id"], "big.pdf", PDF + b"\0" * (10 * MIB + 1 - len(PDF)))
        _is_problem(response, 413)
        assert response.json()["code"] == "body_too_large"
        assert order_attachments(api, order["id"]) == []
        assert stored_files(api) == []

    def test_a_body_far_over_the_limit_is_413(self, api: Api) -> None:
        order = api.order(api.rep)
        _is_problem(upload(api, api.rep, order["id"], "huge.pdf", PDF + b"\0" * (12 * MIB)), 413)
        assert stored_files(api) == []

    def test_an_empty_file_is_400(self, api: Api) -> None:
        order = api.order(api.rep)
        _is_problem(upload(api, api.rep, order["id"], "empty.pdf", b""), 400)

    @pytest.mark.parametrize(
        "request_kw",
        [
            {"data": {"file": "not a file"}},
            {"files": {"document": ("a.pdf", PDF, "application/pdf")}},
            {"files": [("file", ("a.pdf", PDF, "application/pdf")), ("file", ("b.pdf", PDF, "application/pdf"))]},
            {"files": {"file": ("a.pdf", PDF, "application/pdf")}, "data": {"filename": "x.pdf"}},
            {"json": {"file": "JVBERi0xLjQ="}},
            {"content": b"", "headers_extra": {"Content-Type": "multipart/form-data; boundary=x"}},
        ],
    )
    def test_anything_but_one_file_part_is_400(self, api: Api, request_kw: dict[str, Any]) -> None:
        order = api.order(api.rep)
        extra = request_kw.pop("headers_extra", {})
        response = api.client.post(
            f"/api/v1/orders/{order['id']}/attachments", headers={**api.login(api.rep), **extra}, **request_kw
        )
        _is_problem(response, 400)
        assert order_attachments(api, order["id"]) == []
        assert stored_files(api) == []


class TestAccess:
    def test_without_a_token_is_401(self, api: Api) -> None:
        order = api.order(api.rep)
        _is_problem(upload(api, None, order["id"], "a.pdf", PDF), 401)
        attachment = upload(api, api.rep, order["id"], "a.pdf", PDF).json()
        _is_problem(api.client.get(f"/api/v1/orders/{order['id']}/attachments/{attachment['id']}"), 401)

    def test_another_reps_order_is_404_both_ways_and_nothing_is_left_behind(self, api: Api) -> None:
        order = api.order(api.rep)
        attachment = upload(api, api.rep, order["id"], "a.pdf", PDF).json()

        _is_problem(upload(api, api.other_rep, order["id"], "b.pdf", PDF), 404)
        response = api.client.get(
            f"/api/v1/orders/{order['id']}/attachments/{attachment['id']}", headers=api.login(api.other_rep)
        )
        _is_problem(response, 404)
        assert "PDF" not in response.text
        assert [a["id"] for a in order_attachments(api, order["id"])] == [attachment["id"]]
        assert len(stored_files(api)) == 1

    def test_a_role_without_order_create_cannot_upload(self, api: Api) -> None:
        order = api.order(api.rep)
        response = upload(api, api.controller, order["id"], "a.pdf", PDF)
        _is_problem(response, 403)
        assert response.json()["code"] == "permission_denied"
        assert order_attachments(api, order["id"]) == []
        assert stored_files(api) == []

    def test_the_credit_controller_and_the_manager_can_download(self, api: Api) -> None:
        order = api.order(api.rep)
        attachment = upload(api, api.rep, order["id"], "a.pdf", PDF).json()
        for user in (api.controller, api.manager, api.dealer, api.admin):
            response = api.client.get(
                f"/api/v1/orders/{order['id']}/attachments/{attachment['id']}", headers=api.login(user)
            )
            assert (response.status_code, response.content) == (200, PDF)

    def test_unknown_orders_and_attachments_are_404(self, api: Api) -> None:
        order = api.order(api.rep)
        other = api.order(api.rep)
        attachment = upload(api, api.rep, order["id"], "a.pdf", PDF).json()
        headers = api.login(api.rep)
        _is_problem(upload(api, api.rep, "NO-SUCH-ORDER", "a.pdf", PDF), 404)
        _is_problem(upload(api, api.rep, "bad.id", "a.pdf", PDF), 404)
        _is_problem(api.client.get(f"/api/v1/orders/{order['id']}/attachments/NOPE", headers=headers), 404)
        _is_problem(
            api.client.get(f"/api/v1/orders/{other['id']}/attachments/{attachment['id']}", headers=headers), 404
        )
        _is_problem(api.client.get(f"/api/v1/orders/NOPE/attachments/{attachment['id']}", headers=headers), 404)
        assert len(stored_files(api)) == 1

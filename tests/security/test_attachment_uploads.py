"""Issue 12, smaller findings on attachments: the bytes are written only after the scope check (a refused upload
leaves no file and no folder), and an upload is stored and served under a name whose extension matches the type
told by its content, always as a download (`Content-Disposition: attachment`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import Api, problem
from tests.api.test_attachments import PDF, png, stored_files, upload


def folders(api: Api) -> list[str]:
    """Directories under the local files root (the embedded default); GridFS has none."""
    root: Path = api.container.settings.effective_files_dir
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()) if root.exists() else []


class TestRefusedUploadsLeaveNothing:
    def test_an_order_out_of_scope_gets_no_file_and_no_folder(self, api: Api) -> None:
        order = api.order(api.rep)
        problem(upload(api, api.other_rep, order["id"], "b.pdf", PDF), 404)
        assert stored_files(api) == []
        assert folders(api) == []

    def test_an_unknown_order_gets_no_file_and_no_folder(self, api: Api) -> None:
        problem(upload(api, api.rep, "01NOSUCHORDER", "b.pdf", PDF), 404)
        assert stored_files(api) == []
        assert folders(api) == []

    def test_a_role_without_order_create_gets_no_folder(self, api: Api) -> None:
        order = api.order(api.rep)
        problem(upload(api, api.controller, order["id"], "b.pdf", PDF), 403)
        assert folders(api) == []


class TestStoredNames:
    @pytest.mark.parametrize(
        ("given", "content", "kept"),
        [
            ("x.html", PDF, "x.pdf"),
            ("invoice.pdf.exe", PDF, "invoice.pdf.pdf"),
            ("photo.svg", png(), "photo.png"),
            ("scan", PDF, "scan.pdf"),
            ("scan.PDF", PDF, "scan.PDF"),
        ],
        ids=["html", "exe", "svg", "none", "upper-case"],
    )
    def test_the_extension_follows_the_detected_type(self, api: Api, given: str, content: bytes, kept: str) -> None:
        order = api.order(api.rep)
        created = upload(api, api.rep, order["id"], given, content, declared="text/html")
        assert created.status_code == 201, created.text
        assert created.json()["filename"] == kept
        served = api.client.get(
            f"/api/v1/orders/{order['id']}/attachments/{created.json()['id']}", headers=api.login(api.rep)
        )
        assert served.headers["content-disposition"] == f'attachment; filename="{kept}"'
        assert served.headers["content-type"] == created.json()["content_type"]
        assert served.headers["x-content-type-options"] == "nosniff"

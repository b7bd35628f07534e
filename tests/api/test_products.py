"""/api/v1/products over HTTP: the catalogue list and item (cached), admin writes, bad input, and a write
being visible on the very next read, also from another worker sharing the cache store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from crm_domain.services.catalogue import ProductChanges
from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import Api

PRODUCT_IN = {
    "sku": "MTR-5",
    "name": "Motor 5 HP",
    "uom": "EA",
    "unit_price": "12500.50",
    "currency": "INR",
    "tax_rate": "18.00",
    "erp_material_id": "MAT-0005",
    "min_order_qty": "2",
}


def _created(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.client.post("/api/v1/products", json={**PRODUCT_IN, **changes}, headers=api.login(api.admin))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _is_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail", "code"} <= set(response.json())


class TestReadCatalogue:
    def test_everyone_signed_in_lists_the_catalogue_by_sku(self, api: Api) -> None:
        for user in (api.rep, api.dealer, api.agent, api.controller):
            response = api.client.get("/api/v1/products", headers=api.login(user))
            assert response.status_code == 200, response.text
            body = response.json()
            assert [p["sku"] for p in body["items"]] == ["PMP-1", "VLV-1"]
            assert body["next_cursor"] is None
        pump = body["items"][0]
        assert pump == {
            "id": "PMP-1",
            "sku": "PMP-1",
            "name": "Pump 1 HP",
            "uom": "EA",
            "unit_price": "420.00",
            "currency": "INR",
            "tax_rate": "18.00",
            "active": True,
            "erp_material_id": None,
            "min_order_qty": "1",
            "updated_at": pump["updated_at"],
        }

    def test_pages_follow_the_cursor(self, api: Api) -> None:
        _created(api)
        headers = api.login(api.rep)
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = api.client.get("/api/v1/products", params=params, headers=headers).json()
            seen += [p["sku"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["MTR-5", "PMP-1", "VLV-1"]

    def test_active_filter(self, api: Api) -> None:
        _created(api, active=False)
        headers = api.login(api.rep)
        active = api.client.get("/api/v1/products", params={"active": "true"}, headers=headers).json()
        inactive = api.client.get("/api/v1/products", params={"active": "false"}, headers=headers).json()
        every = api.client.get("/api/v1/products", headers=headers).json()
        assert [p["sku"] for p in active["items"]] == ["PMP-1", "VLV-1"]
        assert [p["sku"] for p in inactive["items"]] == ["MTR-5"]
        assert [p["sku"] for p in every["items"]] == ["MTR-5", "PMP-1", "VLV-1"]

    def test_one_product_by_sku_even_with_a_slash(self, api: Api) -> None:
        _created(api, sku="PMP/2HP")
        response = api.client.get("/api/v1/products/PMP/2HP", headers=api.login(api.dealer))
        assert response.status_code == 200, response.text
        assert response.json()["sku"] == "PMP/2HP"
        assert response.json()["name"] == "Motor 5 HP"

    def test_unknown_sku_is_404(self, api: Api) -> None:
        response = api.client.get("/api/v1/products/NOPE-1", headers=api.login(api.rep))
        _is_problem(response, 404)
        assert response.json()["code"] == "not_found"

    @pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"active": "maybe"}])
    def test_bad_query_is_400(self, api: Api, params: dict[str, str]) -> None:
        _is_problem(api.client.get("/api/v1/products", params=params, headers=api.login(api.rep)), 400)

    @pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/products/PMP-1"])
    def test_without_a_token_is_401_even_when_cached(self, api: Api, path: str) -> None:
        assert api.client.get(path, headers=api.login(api.rep)).status_code == 200  # now cached
        response = api.client.get(path)
        _is_problem(response, 401)
        assert "items" not in response.json()
        assert api.client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401


class TestCreateProduct:
    def test_admin_creates_a_product(self, api: Api) -> None:
        created = _created(api)
        assert created == {
            "id": "MTR-5",
            "sku": "MTR-5",
            "name": "Motor 5 HP",
            "uom": "EA",
            "unit_price": "12500.50",
            "currency": "INR",
            "tax_rate": "18.00",
            "active": True,
            "erp_material_id": "MAT-0005",
            "min_order_qty": "2",
            "updated_at": created["updated_at"],
        }
        fetched = api.client.get("/api/v1/products/MTR-5", headers=api.login(api.rep)).json()
        assert fetched == created

    def test_defaults_for_the_optional_fields(self, api: Api) -> None:
        body = {"sku": "NUT-1", "name": "Nut", "unit_price": "0.50", "currency": "INR"}
        response = api.client.post("/api/v1/products", json=body, headers=api.login(api.admin))
        assert response.status_code == 201, response.text
        assert {k: response.json()[k] for k in ("uom", "tax_rate", "erp_material_id", "min_order_qty", "active")} == {
            "uom": "EA",
            "tax_rate": "0.00",
            "erp_material_id": None,
            "min_order_qty": "1",
            "active": True,
        }

    @pytest.mark.parametrize("user", ["rep", "manager", "controller", "dealer", "agent"])
    def test_only_admins_write_the_catalogue(self, api: Api, user: str) -> None:
        response = api.client.post("/api/v1/products", json=PRODUCT_IN, headers=api.login(getattr(api, user)))
        _is_problem(response, 403)
        assert response.json()["code"] == "permission_denied"
        assert api.client.get("/api/v1/products/MTR-5", headers=api.login(api.rep)).status_code == 404

    def test_without_a_token_is_401(self, api: Api) -> None:
        _is_problem(api.client.post("/api/v1/products", json=PRODUCT_IN), 401)

    def test_a_taken_sku_is_409(self, api: Api) -> None:
        response = api.client.post(
            "/api/v1/products", json={**PRODUCT_IN, "sku": "PMP-1"}, headers=api.login(api.admin)
        )
        _is_problem(response, 409)
        assert response.json()["code"] == "duplicate"
        pump = api.client.get("/api/v1/products/PMP-1", headers=api.login(api.rep)).json()
        assert pump["name"] == "Pump 1 HP"

    @pytest.mark.parametrize(
        "changes",
        [
            {"sku": {"$gt": ""}},
            {"name": {"$ne": None}},
            {"unit_price": 420},
            {"unit_price": "420.001"},
            {"unit_price": "-1.00"},
            {"unit_price": "1e3"},
            {"currency": "inr"},
            {"tax_rate": 18},
            {"tax_rate": "18.005"},
            {"tax_rate": "101"},
            {"min_order_qty": "0"},
            {"min_order_qty": "1.0001"},
            {"sku": "../etc"},
            {"sku": ""},
            {"name": ""},
            {"active": "yes"},
            {"active": 1},
            {"price": "1.00"},
        ],
    )
    def test_bad_input_is_400_and_stores_nothing(self, api: Api, changes: dict[str, Any]) -> None:
        body = {**PRODUCT_IN, **changes}
        response = api.client.post("/api/v1/products", json=body, headers=api.login(api.admin))
        _is_problem(response, 400)
        listed = api.client.get("/api/v1/products", headers=api.login(api.admin)).json()
        assert [p["sku"] for p in listed["items"]] == ["PMP-1", "VLV-1"]

    def test_missing_fields_and_malformed_json_are_400(self, api: Api) -> None:
        headers = api.login(api.admin)
        _is_problem(api.client.post("/api/v1/products", json={"sku": "X-1"}, headers=headers), 400)
        malformed = api.client.post(
            "/api/v1/products", content=b'{"sku": ', headers={**headers, "Content-Type": "application/json"}
        )
        _is_problem(malformed, 400)


class TestUpdateProduct:
    def test_admin_changes_price_and_tax_and_clears_the_erp_id(self, api: Api) -> None:
        _created(api)
        response = api.client.patch(
            "/api/v1/products/MTR-5",
            json={"unit_price": "13000.00", "currency": "INR", "tax_rate": "12", "erp_material_id": None},
            headers=api.login(api.admin),
        )
        assert response.status_code == 200, response.text
        changed = response.json()
        assert (changed["unit_price"], changed["tax_rate"], changed["erp_material_id"]) == ("13000.00", "12.00", None)
        assert (changed["name"], changed["min_order_qty"]) == ("Motor 5 HP", "2")

    def test_a_patch_is_visible_at_once_in_both_cached_reads(self, api: Api) -> None:
        headers = api.login(api.rep)
        assert api.client.get("/api/v1/products/PMP-1", headers=headers).json()["unit_price"] == "420.00"
        assert api.client.get("/api/v1/products", headers=headers).json()["items"][0]["unit_price"] == "420.00"

        patched = api.client.patch(
            "/api/v1/products/PMP-1", json={"unit_price": "450.00", "currency": "INR"}, headers=api.login(api.admin)
        )
        assert patched.status_code == 200, patched.text

        assert api.client.get("/api/v1/products/PMP-1", headers=headers).json()["unit_price"] == "450.00"
        assert api.client.get("/api/v1/products", headers=headers).json()["items"][0]["unit_price"] == "450.00"

    def test_a_create_is_visible_at_once_in_the_cached_list(self, api: Api) -> None:
        headers = api.login(api.rep)
        assert len(api.client.get("/api/v1/products", headers=headers).json()["items"]) == 2
        _created(api)
        assert len(api.client.get("/api/v1/products", headers=headers).json()["items"]) == 3

    def test_reads_are_cached_between_writes(self, api: Api) -> None:
        """A change that bypasses the API (ERP sync, the CLI) shows after the cache expiry, or after the next
        write through the API; this pins that GETs really are served from the cache."""
        headers = api.login(api.rep)
        assert api.client.get("/api/v1/products/PMP-1", headers=headers).json()["name"] == "Pump 1 HP"
        api.container.crm.catalogue.update(api.admin.actor(), "PMP-1", ProductChanges(name="Pump (renamed)"))

        assert api.client.get("/api/v1/products/PMP-1", headers=headers).json()["name"] == "Pump 1 HP"
        api.client.patch("/api/v1/products/VLV-1", json={"uom": "PC"}, headers=api.login(api.admin))
        assert api.client.get("/api/v1/products/PMP-1", headers=headers).json()["name"] == "Pump (renamed)"

    def test_a_cached_answer_keeps_its_request_id_and_encoding_apart(self, api: Api) -> None:
        for n in range(20):  # a list big enough to be gzipped
            _created(api, sku=f"BIG-{n:02d}", name="A product with a long enough name " * 2)
        headers = api.login(api.rep)
        zipped = api.client.get("/api/v1/products", headers={**headers, "X-Request-ID": "first-1"})
        assert zipped.headers.get("content-encoding") == "gzip"
        plain = api.client.get(
            "/api/v1/products", headers={**headers, "X-Request-ID": "second-2", "Accept-Encoding": "identity"}
        )
        assert plain.headers.get("content-encoding") is None
        assert plain.headers["x-request-id"] == "second-2"
        assert plain.json() == zipped.json()
        again = api.client.get("/api/v1/products", headers={**headers, "X-Request-ID": "third-3"})
        assert again.headers["x-request-id"] == "third-3"
        assert again.json() == zipped.json()

    @pytest.mark.parametrize("user", ["rep", "manager", "dealer"])
    def test_only_admins_patch(self, api: Api, user: str) -> None:
        response = api.client.patch(
            "/api/v1/products/PMP-1", json={"name": "Mine"}, headers=api.login(getattr(api, user))
        )
        _is_problem(response, 403)
        assert api.client.get("/api/v1/products/PMP-1", headers=api.login(api.rep)).json()["name"] == "Pump 1 HP"

    def test_without_a_token_is_401(self, api: Api) -> None:
        _is_problem(api.client.patch("/api/v1/products/PMP-1", json={"name": "Mine"}), 401)

    def test_unknown_sku_is_404(self, api: Api) -> None:
        response = api.client.patch("/api/v1/products/NOPE-1", json={"name": "Mine"}, headers=api.login(api.admin))
        _is_problem(response, 404)

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"name": None},
            {"name": {"$gt": ""}},
            {"unit_price": "450.00"},
            {"currency": "USD"},
            {"unit_price": "450.001", "currency": "INR"},
            {"unit_price": 450, "currency": "INR"},
            {"tax_rate": "-1"},
            {"active": None},
            {"sku": "OTHER-1"},
            {"stock": 5},
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, api: Api, body: dict[str, Any]) -> None:
        before = api.client.get("/api/v1/products/PMP-1", headers=api.login(api.admin)).json()
        response = api.client.patch("/api/v1/products/PMP-1", json=body, headers=api.login(api.admin))
        _is_problem(response, 400)
        after = api.container.crm.catalogue.get(api.admin.actor(), "PMP-1")
        assert (after.name, after.unit_price.decimal_string(), str(after.tax_rate), after.active) == (
            before["name"],
            before["unit_price"],
            "18",
            True,
        )


class TestSharedCacheAcrossWorkers:
    """Two app instances on one SQLite store stand for two worker processes: the cache and its version live
    in the file store under the data directory, so a write through one is seen at once through the other."""

    @pytest.fixture
    def two_workers(self, tmp_path: Path) -> Iterator[tuple[Api, TestClient[Any]]]:
        settings = Settings(  # type: ignore[arg-type]
            database_url=f"sqlite:///{tmp_path / 'crm.db'}", data_dir=tmp_path, jwt_secret="y" * 48
        )
        container = bootstrap(settings)
        with TestClient(create_app(container)) as first, TestClient(create_app(container)) as second:
            yield Api(container, first, tmp_path / "sms.jsonl"), second

    def test_a_patch_through_one_worker_is_read_at_once_through_the_other(
        self, two_workers: tuple[Api, TestClient[Any]]
    ) -> None:
        api, other_worker = two_workers
        headers = api.login(api.rep)
        for client in (api.client, other_worker):
            assert client.get("/api/v1/products/PMP-1", headers=headers).json()["unit_price"] == "420.00"

        patched = api.client.patch(
            "/api/v1/products/PMP-1", json={"unit_price": "399.00", "currency": "INR"}, headers=api.login(api.admin)
        )
        assert patched.status_code == 200, patched.text

        assert other_worker.get("/api/v1/products/PMP-1", headers=headers).json()["unit_price"] == "399.00"
        assert api.client.get("/api/v1/products/PMP-1", headers=headers).json()["unit_price"] == "399.00"

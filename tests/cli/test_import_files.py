"""Import files as people have them (issue 14): CSV in UTF-8 with or without a byte-order mark, Windows-1252 or
Latin-1, separated by , ; tab or |, and XLSX workbooks; any other file is one clear line and exit 1 or 2, never
an internal error; and the API's cached catalogue answers change as soon as an import has changed prices."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from openpyxl import Workbook

from crm_domain.money import Money
from crm_domain.records import PageRequest
from entrypoints.cli.context import OPERATOR, container
from entrypoints.http.app import create_app
from tests.cli.conftest import Result
from tests.sms import last_code

Cli = Callable[..., Result]
NAMES = ("Café pump 1 HP", "Niño valve")  # in Latin-1 and in Windows-1252 alike


def product(sku: str) -> tuple[str, Money]:
    found = container().crm.catalogue.get(OPERATOR, sku)
    return found.name, found.unit_price


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_in_any_common_encoding_and_delimiter(crm_cli: Cli, tmp_path: Path, encoding: str, delimiter: str) -> None:
    rows = [("sku", "name", "unit_price"), ("CAF-1", NAMES[0], "10.50"), ("NIN-1", NAMES[1], "7")]
    path = tmp_path / "products.csv"
    path.write_bytes("\r\n".join(delimiter.join(row) for row in rows).encode(encoding))

    result = crm_cli("products", "import", str(path))

    assert result.code == 0, result.err
    assert product("CAF-1") == (NAMES[0], Money.of("10.50", "INR"))
    assert product("NIN-1") == (NAMES[1], Money.of("7.00", "INR"))


def test_windows_1252_only_characters_are_read_as_windows_1252(crm_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes("sku,name,unit_price\nEUR-1,Pump \u20ac edition \u2013 2024,12\n".encode("cp1252"))
    assert crm_cli("products", "import", str(path)).code == 0
    assert product("EUR-1")[0] == "Pump \u20ac edition \u2013 2024"


def test_a_header_without_the_columns_says_which_and_how_columns_are_separated(crm_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text("sku name unit_price\nA B 1\n")
    result = crm_cli("products", "import", str(path))
    assert result.code == 1
    assert "missing column(s) name, sku, unit_price" in result.err and "separated by , ; tab or |" in result.err


def workbook(rows: list[tuple[object, ...]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_products_and_customers(crm_cli: Cli, tmp_path: Path) -> None:
    products = tmp_path / "products.xlsx"
    products.write_bytes(workbook([("SKU", "Name", "Unit_Price", "Tax_Rate"), ("X-1", "Pump", 420.5, 18), (None,)]))
    customers = tmp_path / "dealers.xlsx"
    customers.write_bytes(
        workbook([("code", "name", "mobile", "credit_limit"), ("D7001", "Sangli Agro", 9300000001, 250000)])
    )

    assert crm_cli("products", "import", str(products)).code == 0
    assert crm_cli("customers", "import", str(customers)).code == 0

    found = container().crm.catalogue.get(OPERATOR, "X-1")
    assert (found.unit_price, found.tax_rate) == (Money.of("420.50", "INR"), Decimal(18))
    (dealer,) = container().crm.customers.list(OPERATOR, PageRequest(limit=10)).items
    assert (dealer.code, dealer.mobile) == ("D7001", "+919300000001")
    assert container().crm.credit.position(OPERATOR, dealer.id).limit == Money.of(250000, "INR")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000), zipped=st.booleans(), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_any_file_is_a_clear_error_never_an_internal_one(
    crm_cli: Cli, tmp_path: Path, data: bytes, zipped: bool, suffix: str
) -> None:
    path = tmp_path / f"upload{suffix}"
    path.write_bytes((b"PK\x03\x04" if zipped else b"") + data)
    for group in ("products", "customers", "orders"):
        result = crm_cli(group, "import", str(path))
        assert result.code in (1, 2), result
        assert "internal error" not in result.err and "Traceback" not in result.err, result.err
        assert result.err.startswith(("error:", "usage error:", "line ")), result.err


def test_after_a_cli_import_the_api_serves_the_new_price_at_once(crm_cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    admin = container().crm.users.create_admin("+919000000001", "Asha Admin")
    path = tmp_path / "products.csv"
    path.write_text("sku,name,unit_price\nPMP-1,Pump,100.00\n")
    assert crm_cli("products", "import", str(path)).code == 0
    with TestClient(create_app(container())) as client:
        client.post("/api/v1/auth/otp/request", json={"mobile": admin.mobile})
        otp = last_code(data_dir / "sms.jsonl", admin.mobile)
        token = client.post("/api/v1/auth/otp/verify", json={"mobile": admin.mobile, "otp": otp}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def price() -> str:
            response = client.get("/api/v1/products/PMP-1", headers=headers)
            assert response.status_code == 200, response.text
            return str(response.json()["unit_price"])

        assert price() == "100.00"
        assert price() == "100.00"  # now answered from the response cache
        path.write_text("sku,name,unit_price\nPMP-1,Pump,125.00\n")
        assert crm_cli("products", "import", str(path)).code == 0
        assert price() == "125.00"

"""The report pages in process, signed in with the page cookie: sales (table, totals row in Indian grouping, the
inline SVG chart, CSV and XLSX downloads byte for byte the API's), credit exposure and holds, the dealer statement;
scope as the API's (a rep sees their dealers only, a dealer only their own statement, anyone else's is the
not-found page), refusals as error pages with the API's status."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from crm_domain.reports import SalesFilter, SalesReport, SalesRow
from crm_domain.users import User
from entrypoints.web.pages import reports as report_pages
from tests.api.conftest import Api
from tests.api.test_web_session import sign_in_page


def _orders(api: Api) -> dict[str, Any]:
    api.order(api.rep, quantity="2")  # 991.20 for D0001 (Ravi Rep's dealer)
    held = api.order(api.rep, quantity="25")  # 12,390.00: over D0001's limit, on hold
    api.order(api.other_rep, quantity="3", customer_id=api.other_customer.id)  # 1,486.80 for D0002
    return held


def _as(api: Api, user: User) -> None:
    api.client.cookies.clear()
    sign_in_page(api, user)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


class TestSales:
    def test_the_page_has_the_table_totals_chart_and_downloads(self, api: Api) -> None:
        _orders(api)
        _as(api, api.head)
        page = api.client.get("/reports/sales", params={"group_by": "customer"})
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        html = page.text
        assert "D0001 Jaipur Agro" in html and "D0002 Madurai Pumps" in html
        assert "₹991.20" in html and "₹1,486.80" in html
        assert '<tr class="totals"><th scope="row">Total</th><td class="num">2</td>' in html and "₹2,478.00" in html
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'aria-labelledby="sales-chart-title' in html
        assert ">₹1,486.80</text>" in html  # the chart's figures read as the table's
        assert html.count("<rect") == 2  # one bar per dealer: the totals row is not drawn beside them
        assert 'href="/reports/sales.csv?from=' in html and "group_by=customer" in html
        assert 'href="/reports/sales.xlsx?from=' in html
        assert "Not yet here" not in api.client.get("/reports").text

    def test_the_downloads_are_the_apis_files_with_the_cookie(self, api: Api) -> None:
        _orders(api)
        _as(api, api.head)
        params = {"group_by": "rep"}
        got = api.client.get("/reports/sales.csv", params=params)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        assert got.headers["content-disposition"] == 'attachment; filename="sales.csv"'
        assert got.headers["cache-control"] == "no-store"
        api.client.cookies.clear()
        same = api.client.get("/api/v1/reports/sales", params={**params, "format": "csv"}, headers=api.login(api.head))
        assert got.text == same.text
        rows = _rows(got.text)
        assert rows[0][:3] == ["key", "label", "currency"]
        assert {r[1] for r in rows[1:]} == {"Ravi Rep", "Omar Rep", "Total"} and rows[-1][-1] == "2478.00"

        _as(api, api.head)
        sheet = api.client.get("/reports/sales.xlsx", params=params)
        assert sheet.status_code == 200 and sheet.headers["content-disposition"].endswith('sales.xlsx"')
        book = load_workbook(io.BytesIO(sheet.content), read_only=True)
        values = list(book.active.iter_rows(values_only=True))
        assert values[1][:2] == ("key", "label") and values[-1][1] == "Total"

    def test_a_rep_sees_only_their_dealers(self, api: Api) -> None:
        _orders(api)
        _as(api, api.rep)
        assert 'href="/reports/sales"' in api.client.get("/home/").text  # the rep's menu
        html = api.client.get("/reports/sales", params={"group_by": "customer"}).text
        assert "Jaipur Agro" in html and "Madurai Pumps" not in html
        rows = _rows(api.client.get("/reports/sales.csv", params={"group_by": "customer"}).text)
        assert [r[1] for r in rows[1:]] == ["D0001 Jaipur Agro", "Total"] and rows[-1][-1] == "991.20"

    def test_refusals_are_error_pages_with_the_apis_status(self, api: Api) -> None:
        _as(api, api.dealer)
        refused = api.client.get("/reports/sales")
        assert refused.status_code == 403 and "Not allowed" in refused.text
        assert api.client.get("/reports/sales.csv").status_code == 403
        _as(api, api.head)
        backwards = api.client.get("/reports/sales", params={"from": "2026-11-30", "to": "2026-11-01"})
        assert (
            backwards.status_code == 400
            and "<html" in backwards.text
            and "`from` must not be after `to`" in backwards.text
        )
        planet = api.client.get("/reports/sales.csv", params={"group_by": "planet"})
        assert planet.status_code == 400 and "text/html" in planet.headers["content-type"]
        api.client.cookies.clear()
        away = api.client.get("/reports/sales.csv", follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == "/sign-in?next=/reports/sales.csv"


class TestCredit:
    def test_exposure_over_limit_first_with_downloads(self, api: Api) -> None:
        held = _orders(api)
        api.container.crm.orders.release(api.controller.actor(), held["id"], "known dealer")
        _as(api, api.controller)
        moved = api.client.get("/credit/exposure", follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"] == "/reports/credit-exposure"
        html = api.client.get("/reports/credit-exposure").text
        assert 0 < html.index("D0001") < html.index("D0002") and "over the limit" in html
        assert 'href="/reports/credit-exposure.csv"' in html
        rows = _rows(api.client.get("/reports/credit-exposure.csv").text)
        assert [r[1] for r in rows[1:]] == ["D0001", "D0002"]
        sheet = api.client.get("/reports/credit-exposure.xlsx")
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"

    def test_holds_oldest_first_with_age(self, api: Api) -> None:
        first = _orders(api)
        second = api.order(api.rep, quantity="30")
        _as(api, api.controller)
        html = api.client.get("/reports/credit-holds").text
        assert 0 < html.index(first["number"]) < html.index(second["number"])
        assert "Age (days)" in html and "₹12,390.00" in html
        rows = _rows(api.client.get("/reports/credit-holds.csv").text)
        assert rows[0][-1] == "age_days" and [r[1] for r in rows[1:]] == [first["number"], second["number"]]
        _as(api, api.rep)
        assert api.client.get("/reports/credit-holds").status_code == 403

    def test_long_reports_show_their_first_rows_and_download_them_all(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first = _orders(api)
        second = api.order(api.rep, quantity="30")
        monkeypatch.setattr(report_pages, "PAGE_ROWS", 1)
        _as(api, api.controller)
        html = api.client.get("/reports/credit-holds").text
        assert "2 on hold; the oldest 1 shown" in html
        assert first["number"] in html and second["number"] not in html
        assert len(_rows(api.client.get("/reports/credit-holds.csv").text)) == 3  # header and both
        html = api.client.get("/reports/credit-exposure").text
        assert "2 dealers, 0 over the limit; the first 1 shown" in html and "D0002" not in html.split("<tbody>")[1]
        assert len(_rows(api.client.get("/reports/credit-exposure.csv").text)) == 3


class TestStatement:
    def test_a_dealer_sees_their_own_statement_and_downloads_it(self, api: Api) -> None:
        placed = api.order(api.rep, quantity="2")
        _as(api, api.dealer)
        card = api.client.get("/my-credit").text
        assert 'href="/my-statement"' in card and "Not yet here" not in card
        html = api.client.get("/my-statement").text
        assert "My statement" in html and "Opening balance" in html and "Closing balance" in html
        assert placed["number"] in html
        link = f"/dealers/{api.customer.id}/statement.csv"
        assert f'href="{link}?from=' in html
        rows = _rows(api.client.get(link).text)
        assert rows[0] == ["at", "kind", "reference", "description", "debit", "credit", "balance"]
        assert rows[1][1] == "opening" and rows[-1][1] == "closing" and placed["number"] in {r[2] for r in rows}
        sheet = api.client.get(f"/dealers/{api.customer.id}/statement.xlsx")
        assert sheet.status_code == 200 and 'filename="statement-D0001.xlsx"' in sheet.headers["content-disposition"]

    def test_another_dealers_statement_is_not_found(self, api: Api) -> None:
        _as(api, api.dealer)
        for path in (f"/dealers/{api.other_customer.id}/statement", f"/dealers/{api.other_customer.id}/statement.csv"):
            page = api.client.get(path)
            assert page.status_code == 404 and "Not found" in page.text and "Madurai" not in page.text

    def test_a_rep_reads_the_statements_of_their_dealers_only(self, api: Api) -> None:
        _as(api, api.rep)
        assert api.client.get(f"/dealers/{api.customer.id}/statement").status_code == 200
        assert api.client.get(f"/dealers/{api.other_customer.id}/statement").status_code == 404
        assert api.client.get("/my-statement").status_code == 404


class TestChartAmounts:
    @staticmethod
    def report(*currencies: str) -> SalesReport:
        rows = [SalesRow(f"k{i}", f"K{i}", c, 1, 1000, 150000, 0, 150000) for i, c in enumerate(currencies)]
        return SalesReport(filter=SalesFilter(start=date(2026, 1, 1), end=date(2026, 1, 31)), rows=rows, totals=[])

    def test_the_chart_writes_the_reports_own_currency(self) -> None:
        assert report_pages.chart_number(self.report("USD", "USD"))(Decimal("1500.00")) == "$1,500.00"
        assert report_pages.chart_number(self.report("INR"))(Decimal("150000.00")) == "₹1,50,000.00"

    def test_bars_of_several_currencies_carry_no_symbol(self) -> None:
        assert report_pages.chart_number(self.report("USD", "INR"))(Decimal("1500.00")) == "1,500.00"

"""/api/v1/reports/… and /customers/{id}/statement over HTTP: scope, formats (JSON pages, CSV, XLSX, SVG),
content negotiation, problem details on bad parameters, and the OpenAPI response models."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook

from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.services.customers import NewCustomer
from tests.api.conftest import Api, problem
from tests.unit.world import erp_reports

SALES = "/api/v1/reports/sales"


def _orders(api: Api) -> None:
    api.order(api.rep, quantity="2")  # 991.20 for D0001 (rep's)
    api.order(api.rep, quantity="25")  # held: over D0001's limit
    api.order(api.other_rep, quantity="3", customer_id=api.other_customer.id)  # 1486.80 for D0002


def _get(api: Api, path: str, who: Any, **params: Any) -> Any:
    return api.client.get(path, params=params, headers=api.login(who))


class TestSalesScope:
    def test_each_sees_the_sales_of_the_dealers_in_scope(self, api: Api) -> None:
        _orders(api)

        def totals(who: Any) -> dict[str, str]:
            response = _get(api, SALES, who, group_by="customer")
            assert response.status_code == 200, response.text
            return {row["key"]: row["total"] for row in response.json()["items"]}

        assert totals(api.rep) == {api.customer.id: "991.20"}
        assert totals(api.manager) == {api.customer.id: "991.20"}
        assert totals(api.head) == {api.customer.id: "991.20", api.other_customer.id: "1486.80"}
        assert totals(api.admin) == totals(api.head)

    def test_the_totals_row_and_status_filter(self, api: Api) -> None:
        _orders(api)

        counted = _get(api, SALES, api.admin, group_by="month").json()
        held = _get(api, SALES, api.admin, group_by="rep", status="on_credit_hold").json()

        assert counted["totals"][0]["total"] == "2478.00" and counted["totals"][0]["orders"] == 2
        assert [(r["label"], r["orders"], r["total"]) for r in held["items"]] == [("Ravi Rep", 1, "12390.00")]

    def test_a_dealer_has_no_sales_report(self, api: Api) -> None:
        problem(_get(api, SALES, api.dealer), 403)

    def test_pages_follow_the_cursor(self, api: Api) -> None:
        _orders(api)
        first = _get(api, SALES, api.admin, group_by="customer", limit=1).json()
        second = _get(api, SALES, api.admin, group_by="customer", limit=1, cursor=first["next_cursor"]).json()

        assert len(first["items"]) == len(second["items"]) == 1
        assert second["next_cursor"] is None
        assert first["items"][0]["key"] != second["items"][0]["key"]
        assert first["totals"] == second["totals"]


class TestFormats:
    def test_csv_by_query_and_by_accept(self, api: Api) -> None:
        _orders(api)
        by_query = _get(api, SALES, api.admin, group_by="product", format="csv")
        by_accept = api.client.get(
            SALES, params={"group_by": "product"}, headers={**api.login(api.admin), "Accept": "text/csv"}
        )

        assert by_query.status_code == by_accept.status_code == 200
        assert by_query.headers["content-type"].startswith("text/csv")
        assert by_query.text == by_accept.text
        rows = list(csv.DictReader(io.StringIO(by_query.text)))
        assert [(r["key"], r["orders"], r["total"]) for r in rows] == [
            ("PMP-1", "2", "2478.00"),
            ("total", "2", "2478.00"),
        ]

    def test_xlsx(self, api: Api) -> None:
        _orders(api)
        response = _get(api, "/api/v1/reports/credit-exposure", api.admin, format="xlsx")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][:3] == ("customer_id", "code", "name")
        assert {row[1] for row in rows[2:]} == {"D0001", "D0002"}

    def test_svg_is_an_accessible_chart_with_escaped_text(self, api: Api) -> None:
        crm = api.container.crm
        odd = crm.customers.create(
            api.admin.actor(),
            NewCustomer(
                code="D0003",
                name='Sharma & Sons <"Pumps">',
                mobile="+919100000003",
                credit_limit=Money.of("10000.00", "INR"),
                assigned_rep_id=api.rep.id,
            ),
        ).customer
        api.order(api.rep, quantity="1", customer_id=odd.id)

        response = _get(api, SALES, api.admin, group_by="customer", format="svg")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        root = ElementTree.fromstring(response.text)  # well-formed: the name's & < > " are escaped
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("viewBox") and root.get("role") == "img"
        assert root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
        assert 'Sharma & Sons <"Pumps">' in "".join(root.itertext())
        assert len(root.findall(f"{ns}rect")) == 1  # the dealer's bar; the totals row is not drawn beside it

    def test_bad_parameters_are_problems(self, api: Api) -> None:
        problem(_get(api, SALES, api.admin, group_by="planet"), 400)
        problem(_get(api, SALES, api.admin, **{"from": "2026-11-30", "to": "2026-11-01"}), 400)
        problem(_get(api, SALES, api.admin, format="pdf"), 400)
        problem(_get(api, SALES, api.admin, status="draft"), 400)


class TestCredit:
    def test_exposure_in_scope_over_limit_first(self, api: Api) -> None:
        _orders(api)
        api.container.crm.orders.release(api.controller.actor(), _held(api)["id"], "known dealer")

        mine = _get(api, "/api/v1/reports/credit-exposure", api.rep).json()["items"]
        everyone = _get(api, "/api/v1/reports/credit-exposure", api.controller).json()["items"]

        assert [r["code"] for r in mine] == ["D0001"]
        assert [r["code"] for r in everyone] == ["D0001", "D0002"]
        assert everyone[0]["over_limit"] is True and Decimal(everyone[0]["available"]) < 0

    def test_holds_for_credit_controllers_oldest_first(self, api: Api) -> None:
        _orders(api)
        held = _held(api)

        response = _get(api, "/api/v1/reports/credit-holds", api.controller)

        assert [(r["number"], r["reason"], r["shortfall"]) for r in response.json()["items"]] == [
            (held["number"], "limit_exceeded", held["credit"]["shortfall"])
        ]
        problem(_get(api, "/api/v1/reports/credit-holds", api.rep), 403)


class TestStatement:
    def test_a_dealer_reads_their_own_statement_only(self, api: Api) -> None:
        _orders(api)
        own = _get(api, f"/api/v1/customers/{api.customer.id}/statement", api.dealer)
        other = _get(api, f"/api/v1/customers/{api.other_customer.id}/statement", api.dealer)

        assert own.status_code == 200, own.text
        body = own.json()
        assert body["opening"] == body["closing"] == "0.00"  # nothing invoiced yet
        assert [line["kind"] for line in body["items"]] == ["order", "order"]
        problem(other, 404)

    def test_invoices_and_payments_move_the_balance(self, api: Api) -> None:
        order = api.order(api.rep, quantity="2")
        sandbox = api.container.sandbox
        assert sandbox is not None
        crm = api.container.crm

        erp_reports(crm, order["id"], OrderStatus.INVOICED)

        body = _get(api, f"/api/v1/customers/{api.customer.id}/statement", api.admin).json()

        assert body["closing"] == "991.20"
        assert [(line["kind"], line["debit"], line["balance"]) for line in body["items"]][-1] == (
            "invoice",
            "991.20",
            "991.20",
        )


class TestOpenApi:
    def test_the_reports_document_their_response_models(self, api: Api) -> None:
        schema = api.client.get("/schema/openapi.json").json()
        ok = schema["paths"]["/api/v1/reports/sales"]["get"]["responses"]["200"]
        ref = ok["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("SalesReportOut")
        assert "/api/v1/customers/{customer_id}/statement" in schema["paths"]


def _held(api: Api) -> dict[str, Any]:
    orders = api.client.get("/api/v1/orders", params={"status": "on_credit_hold"}, headers=api.login(api.admin))
    return dict(orders.json()["items"][0])


class TestCache:
    def test_a_repeated_read_is_served_from_the_cache_and_a_new_order_shows_at_once(
        self, api: Api, monkeypatch: Any
    ) -> None:
        _orders(api)
        computed: list[str] = []
        real = api.container.crm.reports.sales
        monkeypatch.setattr(
            api.container.crm.reports, "sales", lambda actor, flt: computed.append(actor.id) or real(actor, flt)
        )

        first = _get(api, SALES, api.head, group_by="customer").json()
        again = _get(api, SALES, api.head, group_by="customer").json()
        assert again == first and len(computed) == 1

        api.order(api.rep, quantity="1")  # 495.60 more for D0001
        after = _get(api, SALES, api.head, group_by="customer").json()
        assert after["totals"][0]["total"] == "2973.60" and len(computed) == 2

    def test_the_cache_is_per_scope(self, api: Api) -> None:
        _orders(api)
        everyone = _get(api, SALES, api.head, group_by="customer").json()
        mine = _get(api, SALES, api.rep, group_by="customer").json()

        assert everyone["totals"][0]["total"] == "2478.00"
        assert mine["totals"][0]["total"] == "991.20"


class TestEdges:
    def test_dates_at_the_ends_of_the_calendar_are_problems_not_errors(self, api: Api) -> None:
        statement = f"/api/v1/customers/{api.customer.id}/statement"
        problem(_get(api, statement, api.admin, **{"from": "0001-01-01", "to": "9999-12-31"}), 400)
        problem(_get(api, statement, api.admin, **{"from": "9999-12-30", "to": "9999-12-31"}), 400)
        problem(_get(api, SALES, api.admin, **{"from": "0001-01-01", "to": "9999-12-31"}), 400)
        assert _get(api, SALES, api.admin, **{"from": "9999-12-01", "to": "9999-12-31"}).status_code == 200

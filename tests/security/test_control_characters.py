"""Issue 12, finding 7 (text): control characters — C0, DEL, C1 — in names, notes and reasons are refused with a
400 and change nothing (SPEC §5); a note may still hold tabs and line breaks. The rule is the domain's
(`crm_domain.text`), so it holds for the library and the CSV imports as for the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import LineRequest
from crm_domain.products import Product
from crm_domain.services.customers import CustomerRecord, NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.text import check_text
from tests.api.conftest import Api, problem

T0 = datetime(2026, 12, 1, tzinfo=UTC)
CONTROLS = ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\x9b", "\r", "\n", "\t"]
LINE_BREAKS = ["\n", "\r\n", "\t"]


class TestTheDomainRule:
    @pytest.mark.parametrize("control", CONTROLS)
    def test_a_name_takes_no_control_character(self, control: str) -> None:
        with pytest.raises(ValidationFailed):
            check_text(f"Jaipur{control}Agro", "name")

    @pytest.mark.parametrize("control", [c for c in CONTROLS if c not in "\r\n\t"])
    def test_a_note_takes_none_but_tabs_and_line_breaks(self, control: str) -> None:
        with pytest.raises(ValidationFailed):
            check_text(f"deliver{control}soon", "notes", multiline=True)

    @pytest.mark.parametrize("lines", LINE_BREAKS)
    def test_a_note_may_span_lines(self, lines: str) -> None:
        assert check_text(f"deliver{lines}before Diwali", "notes", multiline=True)

    def test_records_from_an_erp_or_a_file_refuse_them(self) -> None:
        """The doors without a person: the customer upsert's record (CSV import, ERP customer sync) and the
        product itself (ERP product sync, import, API)."""
        with pytest.raises(ValidationFailed):
            CustomerRecord(code="D1", name="Agro\x1b[2J", currency="INR")
        with pytest.raises(ValidationFailed):
            CustomerRecord(code="D1", name="Agro", currency="INR", territory="NORTH\x00")
        with pytest.raises(ValidationFailed):
            Product(sku="PMP-1", name="Pump\x85", unit_price=Money.of("1.00", "INR"), updated_at=T0)

    def test_library_commands_refuse_them(self) -> None:
        with pytest.raises(ValidationFailed):
            NewCustomer(code="D1", name="A\x00B", mobile="+919100000009", credit_limit=Money.of("1.00", "INR"))
        with pytest.raises(ValidationFailed):
            NewOrder(customer_id="c", lines=(LineRequest(sku="PMP-1", quantity="1"),), notes="x\x1by")  # type: ignore[arg-type]


class TestThroughTheApi:
    @pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x85"])
    def test_order_notes_with_a_control_character_are_a_400(self, api: Api, control: str) -> None:
        body = {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1"}], "notes": f"a{control}b"}
        problem(api.client.post("/api/v1/orders", json=body, headers=api.login(api.rep)), 400)
        assert api.client.get("/api/v1/orders", headers=api.login(api.rep)).json()["items"] == []

    def test_order_notes_keep_their_line_breaks(self, api: Api) -> None:
        order = api.order(api.rep, submit=False, notes="line one\nline two\tend")
        assert order["notes"] == "line one\nline two\tend"

    @pytest.mark.parametrize("control", ["\x00", "\n", "\x1b", "\x9b"])
    def test_names_with_a_control_character_are_a_400(self, api: Api, control: str) -> None:
        admin = api.login(api.admin)
        customer = {
            "code": "D0077",
            "name": f"Agro{control}Mart",
            "mobile": "+919100000077",
            "territory": "North",
            "credit_limit": "1000.00",
            "assigned_rep_id": api.rep.id,
        }
        problem(api.client.post("/api/v1/customers", json=customer, headers=admin), 400)
        product = {"sku": "NEW-2", "name": f"Pump{control}X", "unit_price": "1.00", "currency": "INR"}
        problem(api.client.post("/api/v1/products", json=product, headers=admin), 400)
        user = {"mobile": "+919000000077", "name": f"Uma{control}User", "roles": ["sales_rep"]}
        problem(api.client.post("/api/v1/users", json=user, headers=admin), 400)

    @pytest.mark.parametrize("action", ["cancel", "reject"])
    def test_reasons_with_a_control_character_are_a_400(self, api: Api, action: str) -> None:
        order = api.order(api.rep, submit=True, quantity="100")  # over the limit: on hold
        who = api.rep if action == "cancel" else api.controller
        answer = api.client.post(
            f"/api/v1/orders/{order['id']}/{action}", json={"reason": "no\x07pe"}, headers=api.login(who)
        )
        problem(answer, 400)
        after = api.client.get(f"/api/v1/orders/{order['id']}", headers=api.login(api.rep)).json()
        assert after["status"] == order["status"]

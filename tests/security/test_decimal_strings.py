"""Issue 12, finding 7 (numbers): decimal strings accept ASCII digits, one optional point and an optional sign
only — no `_`, no exponent, no other scripts' digits, no spaces (SPEC §5). Python's `Decimal()` takes all of
those, so the rule is the domain's (`crm_domain.decimals`) and holds for quantities, discounts, rates, tolerances
and amounts through the API, the CSV imports and the library; accepted values come back in canonical form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_domain.decimals import canonical, decimal_of, is_plain_decimal
from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import LineRequest
from crm_domain.products import check_quantity, check_rate
from tests.api.conftest import Api, problem

#: What `Decimal()` takes and SPEC §5 does not.
REFUSED = [
    "1_000",
    "١٢",  # Arabic-Indic digits
    "१२",  # Devanagari digits
    "１２",  # full-width digits
    "1e3",
    "1E+3",
    " 12",
    "12 ",
    "12\n",
    "Infinity",
    "NaN",
    "1.",
    ".5",
    "+-1",
    "1.2.3",
    "0x10",
    "",
]


class TestTheDomainRule:
    @pytest.mark.parametrize("text", REFUSED)
    def test_refuses_what_decimal_would_take(self, text: str) -> None:
        assert not is_plain_decimal(text)
        with pytest.raises(ValidationFailed):
            decimal_of(text, "quantity")

    @pytest.mark.parametrize("text", REFUSED)
    def test_quantity_rate_and_money_refuse_it(self, text: str) -> None:
        for parse in (
            lambda: check_quantity(text),
            lambda: check_rate(text),
            lambda: Money.of(text, "INR"),
            lambda: LineRequest(sku="PMP-1", quantity=text),  # type: ignore[arg-type]
        ):
            with pytest.raises(ValidationFailed):
                parse()

    @pytest.mark.parametrize(
        ("text", "kept"), [("+2", "2"), ("007", "7"), ("1.500", "1.5"), ("1000", "1000"), ("0.125", "0.125")]
    )
    def test_keeps_a_quantity_in_canonical_form(self, text: str, kept: str) -> None:
        assert str(check_quantity(text)) == kept

    @given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1_000_000), places=3, allow_nan=False))
    def test_every_quantity_written_plainly_is_accepted_and_printed_without_exponent(self, value: Decimal) -> None:
        written = format(value, "f")
        kept = check_quantity(written)
        assert kept == value
        assert is_plain_decimal(str(kept)) and str(kept) == str(canonical(kept))

    @given(st.text(min_size=1, max_size=12))
    def test_anything_accepted_is_plain_ascii(self, text: str) -> None:
        try:
            decimal_of(text, "x")
        except ValidationFailed:
            return
        assert text.isascii() and all(c in "0123456789.+-" for c in text)


def line_body(api: Api, **line: object) -> dict[str, object]:
    return {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", **line}]}


class TestThroughTheApi:
    @pytest.mark.parametrize("text", ["1_000", "١٢", "1e3", " 12", "12 "])
    def test_an_order_quantity_written_otherwise_is_a_400(self, api: Api, text: str) -> None:
        answer = api.client.post("/api/v1/orders", json=line_body(api, quantity=text), headers=api.login(api.rep))
        problem(answer, 400)
        assert api.client.get("/api/v1/orders", headers=api.login(api.rep)).json()["items"] == []

    @pytest.mark.parametrize("text", ["1_0", "١", "1e1", " 5"])
    def test_a_discount_written_otherwise_is_a_400(self, api: Api, text: str) -> None:
        body = line_body(api, quantity="1", discount_pct=text)
        problem(api.client.post("/api/v1/orders/quote", json=body, headers=api.login(api.rep)), 400)

    def test_a_float_quantity_is_a_400(self, api: Api) -> None:
        body = line_body(api, quantity=1.5)
        problem(api.client.post("/api/v1/orders/quote", json=body, headers=api.login(api.rep)), 400)

    def test_accepted_quantities_are_echoed_in_canonical_form(self, api: Api) -> None:
        order = api.order(api.rep, quantity="+002.500", submit=False)
        assert order["lines"][0]["quantity"] == "2.5"
        assert api.order(api.rep, quantity="3", submit=False)["lines"][0]["quantity"] == "3"

    @pytest.mark.parametrize(
        ("path", "field"),
        [
            ("/api/v1/products", "unit_price"),
            ("/api/v1/products", "tax_rate"),
            ("/api/v1/products", "min_order_qty"),
        ],
    )
    @pytest.mark.parametrize("text", ["1_00", "١٢", "1e2", " 12"])
    def test_product_numbers_written_otherwise_are_a_400(self, api: Api, path: str, field: str, text: str) -> None:
        product = {
            "sku": "NEW-1",
            "name": "New",
            "unit_price": "10.00",
            "currency": "INR",
            "tax_rate": "5",
            field: text,
        }
        problem(api.client.post(path, json=product, headers=api.login(api.admin)), 400)

    @pytest.mark.parametrize(
        ("field", "text"),
        [("credit_limit", t) for t in ["1_000.00", "١٠٠٠.٠٠", "1e3", " 1000.00"]]
        + [("tolerance_pct", t) for t in ["1_0", "١", "1e1", " 5"]],
    )
    def test_customer_numbers_written_otherwise_are_a_400(self, api: Api, field: str, text: str) -> None:
        customer = {
            "code": "D0099",
            "name": "New Dealer",
            "mobile": "+919100000099",
            "territory": "North",
            "credit_limit": "1000.00",
            "assigned_rep_id": api.rep.id,
            field: text,
        }
        problem(api.client.post("/api/v1/customers", json=customer, headers=api.login(api.admin)), 400)
        codes = [c["code"] for c in api.client.get("/api/v1/customers", headers=api.login(api.admin)).json()["items"]]
        assert "D0099" not in codes

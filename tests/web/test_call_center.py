"""The call-center portal in a real browser (SPEC §12): an agent finds a dealer by the mobile the phone shows,
repeats the dealer's last order with the live quote, and logs the call — keyboard only — and the store has the
order (channel `call_center`, placed by the agent) and the call (outcome `order_placed`, naming the order)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from crm_domain.app import Crm
from crm_domain.customers import Customer
from crm_domain.orders import Channel
from crm_domain.records import PageRequest
from crm_domain.users import SYSTEM
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from tests.web.conftest import Demo


@pytest.fixture(scope="module")
def store_of(demo: Demo) -> Crm:
    """The demo server's own store, read through the use cases (as a library user would)."""
    return bootstrap(Settings(data_dir=demo.server.data_dir)).crm


def a_repeat_customer(crm: Crm) -> Customer:
    """A dealer whose last order can be repeated: the customer of the newest order."""
    newest = crm.orders.list(SYSTEM, PageRequest(limit=1)).items[0]
    return crm.customers.get(SYSTEM, newest.customer_id).customer


def as_the_phone_shows_it(mobile: str) -> str:
    national = mobile.removeprefix("+91")
    return f"+91 {national[:5]} {national[5:]}"


def test_an_agent_finds_a_dealer_by_mobile_repeats_the_last_order_and_logs_the_call(
    visitor: Any, demo: Demo, store_of: Crm
) -> None:
    dealer = a_repeat_customer(store_of)
    last = store_of.dealer_cards.card(SYSTEM, dealer.id).last_order
    assert last is not None
    agent = demo.user("call_center_agent")
    v = visitor("agent", agent["mobile"])
    page = v.page

    v.visit("/call-center/")
    started = time.monotonic()
    search = page.get_by_label(re.compile("Caller's mobile"))
    assert page.evaluate("document.activeElement.id") == "q"  # the search has the focus
    page.keyboard.type(as_the_phone_shows_it(dealer.mobile))
    page.locator("#results a").first.wait_for()
    assert dealer.code in page.locator("#results").inner_text()
    v.check("call-center-search")
    search.press("Enter")  # one dealer: straight to the card
    page.wait_for_url(f"**/call-center/dealers/{dealer.id}")
    assert page.get_by_role("heading", level=1).inner_text().startswith(dealer.name)
    assert page.get_by_text("Available credit").is_visible()
    v.check("call-center-card")

    page.keyboard.press("Enter")  # "Repeat last order" has the focus
    page.wait_for_url(re.compile(r"/order\?repeat="))
    skus = page.locator("input[name=sku]")
    assert [skus.nth(n).input_value() for n in range(len(last.lines))] == [line.sku for line in last.lines]
    assert "Order total" in page.locator("#quote").inner_text()
    v.check("call-center-order")
    before = page.locator("#quote").inner_text()
    page.keyboard.press("Control+A")  # the first quantity has the focus: the dealer wants a different amount
    page.keyboard.type(str(last.lines[0].quantity.normalize() + 1))
    page.wait_for_function("before => document.querySelector('#quote').innerText !== before", arg=before)
    v.check("call-center-order-live-quote")
    page.keyboard.press("Enter")  # places the order

    page.wait_for_url(re.compile(r"/call\?order="))
    placed_id = page.url.rsplit("=", 1)[1]
    assert "placed for" in page.get_by_role("status").first.inner_text()
    assert page.evaluate("document.activeElement.id") == "note"
    page.keyboard.type("Repeat of the last order, one more of the first line; deliver Friday")
    v.check("call-center-log-call")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/call-center/?logged=1")
    elapsed = time.monotonic() - started
    assert "Call logged" in page.get_by_role("status").inner_text()
    assert page.evaluate("document.activeElement.id") == "q"  # ready for the next caller
    v.check("call-center-logged")
    assert elapsed < 60, f"the repeat order took {elapsed:.1f} s of machine time"

    order = store_of.orders.get(SYSTEM, placed_id)
    assert (order.customer_id, order.channel, order.created_by) == (dealer.id, Channel.CALL_CENTER, agent["id"])
    assert [(line.sku, line.quantity) for line in order.lines] == [
        (line.sku, line.quantity + (1 if n == 0 else 0)) for n, line in enumerate(last.lines)
    ]
    call = store_of.call_log.list(SYSTEM, dealer.id, PageRequest(limit=1)).items[0]
    assert (call.agent_id, call.outcome.value, call.order_id) == (agent["id"], "order_placed", placed_id)
    assert call.note.startswith("Repeat of the last order")


def test_several_matches_are_listed_with_the_first_one_focused(visitor: Any, demo: Demo, store_of: Crm) -> None:
    v = visitor("agent", demo.user("call_center_agent")["mobile"])
    v.visit("/call-center/?q=D")  # every demo code starts with D… (no script: the form's own GET)
    links = v.page.locator("#results a")
    assert links.count() > 1
    assert v.page.evaluate("document.activeElement.closest('#results') !== null")
    v.check("call-center-several")
    v.page.keyboard.press("Enter")
    v.page.wait_for_url(re.compile(r"/call-center/dealers/"))


def test_the_card_at_360px_and_a_dealer_outside_a_reps_scope(visitor: Any, demo: Demo, store_of: Crm) -> None:
    rep = demo.user("sales_rep")
    mine = store_of.customers.list(SYSTEM, PageRequest(limit=200)).items
    own = next(c for c in mine if c.assigned_rep_id == rep["id"])
    other = next(c for c in mine if c.assigned_rep_id not in (rep["id"], None))
    v = visitor("rep", rep["mobile"], width=360)
    v.visit(f"/call-center/dealers/{own.id}")
    assert v.page.get_by_role("heading", level=1).inner_text().startswith(own.name)
    assert v.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    response = v.visit(f"/call-center/dealers/{other.id}")
    assert response.status == 404
    assert v.page.get_by_role("heading", level=1).inner_text() == "Not found"


def test_an_unknown_sku_is_refused_on_the_form_and_nothing_is_placed(visitor: Any, demo: Demo, store_of: Crm) -> None:
    dealer = a_repeat_customer(store_of)
    before = store_of.orders.list(SYSTEM, PageRequest(limit=1)).items[0].id
    v = visitor("agent", demo.user("call_center_agent")["mobile"])
    v.visit(f"/call-center/dealers/{dealer.id}/order")
    page = v.page
    page.get_by_label("SKU of line 1").fill("NO-SUCH-SKU")
    page.get_by_label("Quantity of line 1").fill("2")
    page.locator("#quote [role=alert]").wait_for()  # the live quote says so already
    assert "NO-SUCH-SKU" in page.locator("#quote").inner_text()
    with page.expect_response(re.compile(r"/order$")) as placed:
        page.get_by_label("Quantity of line 1").press("Enter")
    assert placed.value.status == 400
    assert "NO-SUCH-SKU" in page.get_by_role("alert").first.inner_text()
    assert page.get_by_label("SKU of line 1").input_value() == "NO-SUCH-SKU"  # what was typed stays
    v.check("call-center-order-refused")
    assert store_of.orders.list(SYSTEM, PageRequest(limit=1)).items[0].id == before

"""The day's work of each role in a real browser: a rep's order goes on hold, a credit controller releases it and
the rep sees it confirmed once the worker has sent it to the ERP; a manager's leaderboard and report download; a
dealer sees only their own orders; a phone-width page still works."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from entrypoints.web.formatting import grouped
from tests.web.conftest import Demo


def test_a_held_order_is_released_and_then_confirmed(visitor: Any, demo: Demo) -> None:
    rep = visitor("rep", demo.mobile_of("sales_rep"))
    rep.visit("/dealers")
    rows = rep.page.locator("#dealer-list tbody tr")
    assert rows.count() >= 2
    code = rows.nth(1).locator("td").first.inner_text()
    search = rep.page.get_by_label("Find by code, name or mobile")
    search.press_sequentially(code, delay=20)  # search as you type (htmx): the list narrows, the focus stays
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(code)
    expect(search).to_be_focused()
    rep.visit("/orders/new")
    page = rep.page
    dealer = page.get_by_label("Dealer")
    dealer.select_option(index=1)
    page.get_by_label("SKU, line 1").fill("PMP-0001")
    page.get_by_label("Quantity, line 1").fill("500")
    # The live quote (htmx) comes without a click: the total and the credit verdict of this order.
    expect(page.locator("#verdict")).to_contain_text("would go on credit hold")
    rep.check("new-order-quote")
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9]+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("on credit hold")
    order_url = page.url
    order_id = order_url.rsplit("/", 1)[1]
    rep.check("order-on-hold")

    controller = visitor("controller", demo.mobile_of("credit_controller"))
    controller.visit("/credit/holds")
    row = controller.page.locator(f"#o-{order_id}")
    row.get_by_label(re.compile("^Note for")).fill("cheque received at the branch")
    row.get_by_role("button", name="Release").click()
    expect(controller.page.locator(f"#o-{order_id}")).to_contain_text("submitted")  # swapped in place by htmx
    controller.check("hold-released")

    worker = demo.server.crm("worker", "--once")
    assert worker.returncode == 0, worker.stderr
    rep.visit(order_url)
    expect(rep.page.get_by_role("heading", level=1)).to_contain_text("confirmed")
    expect(rep.page.locator("ol.history")).to_contain_text("cheque received at the branch")
    rep.visit("/orders")
    rep.visit("/performance")


def test_a_manager_sees_the_leaderboard_and_downloads_a_report(visitor: Any, demo: Demo) -> None:
    manager = visitor("manager", demo.mobile_of("sales_manager"))
    manager.visit("/team")
    manager.visit("/team/leaderboard")
    rows = manager.page.locator("#leaderboard tbody tr")
    reps = rows.count()
    assert reps >= 2
    expect(rows.first.locator("td").first).to_have_text("1")
    manager.visit("/reports")
    with manager.page.expect_download() as download:
        manager.page.get_by_role("link", name="Download performance CSV").click()
    text = download.value.path().read_text()
    assert text.splitlines()[0].startswith("rank,user_id,name,period,target,achieved")
    assert len(text.splitlines()) == reps + 1

    manager.page.get_by_label("Group by").select_option("customer")
    manager.page.get_by_role("button", name="Open the sales report").click()
    manager.page.wait_for_url(re.compile(r"/reports/sales\?group_by=customer$"))
    manager.check("sales-report")
    expect(manager.page.locator("figure.chart svg").first).to_be_visible()  # drawn inline
    total = manager.page.locator("#sales-report tfoot td").last.inner_text()  # ₹12,34,567.89
    with manager.page.expect_download() as download:
        manager.page.get_by_role("link", name="CSV", exact=True).click()
    assert download.value.suggested_filename == "sales.csv"
    lines = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert lines[0] == ["key", "label", "currency", "orders", "quantity", "net", "tax", "total"]
    dealers = manager.page.locator("#sales-report tbody tr").count()
    assert len(lines) == 1 + dealers + 1 and lines[-1][1] == "Total"
    assert total == f"₹{grouped(Decimal(lines[-1][-1]))}"


def test_a_dealer_sees_only_their_own_orders(visitor: Any, demo: Demo) -> None:
    mine, theirs = demo.user("dealer", 0), demo.user("dealer", 1)
    other = visitor("other-dealer", theirs["mobile"])
    other.visit("/orders")
    other_order = other.page.locator("tbody tr a").first.get_attribute("href")
    assert other_order and other_order.startswith("/orders/")

    dealer = visitor("dealer", mine["mobile"])
    dealer.visit("/orders")
    dealer.visit("/my-credit")
    dealer.visit("/my-statement")
    expect(dealer.page.locator("#statement tfoot")).to_contain_text("Closing balance")
    dealer.visit("/orders/new")
    expect(dealer.page.get_by_label("Dealer")).to_have_count(0)  # a dealer orders for themselves only
    dealer.page.get_by_label("SKU, line 1").fill("VLV-0003")
    dealer.page.get_by_label("Quantity, line 1").fill("2")
    expect(dealer.page.locator("#verdict")).to_contain_text("Credit check")
    dealer.page.get_by_role("button", name="Submit order").click()
    dealer.page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9]+$"))
    expect(dealer.page.locator("dl.kv").first).to_contain_text("dealer app")
    dealer.check("placed-order")
    response = dealer.visit(other_order)
    assert response.status == 404
    expect(dealer.page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_pages_work_at_phone_width(visitor: Any, demo: Demo) -> None:
    rep = visitor("rep-360", demo.mobile_of("sales_rep", 1), width=360)
    for path in ("/home", "/dealers", "/orders", "/orders/new", "/performance"):
        rep.visit(path)
        scroll = rep.page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 360, (path, scroll)

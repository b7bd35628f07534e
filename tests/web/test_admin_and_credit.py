"""The admin's pages (users, customers, products, targets, CSV import with a result per row; deactivation ends a
browser session at once, shown on a user the test adds so that other tests' people stay active) and credit-term
requests from a manager's dealer card to a credit controller's approval."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.web.conftest import Demo


def test_admin_pages_and_an_import_with_a_result_per_row(visitor: Any, demo: Demo, tmp_path: Path) -> None:
    admin = visitor("admin", "+919000000001")
    for path in ("/admin/users", "/admin/customers", "/admin/products", "/admin/targets", "/admin/imports"):
        admin.visit(path)
    csv_file = tmp_path / "dealers.csv"
    csv_file.write_text(
        "code,name,mobile,credit_limit,territory\n"
        "W0001,Web Import Traders,+919812300001,250000,North\n"
        "W0002,Bad Mobile Traders,12,100000,North\n"
    )
    page = admin.page
    page.get_by_label("What the file holds").select_option("customers")
    page.get_by_label("CSV or XLSX file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()
    result = page.locator("#import-result")
    expect(result.get_by_role("heading")).to_contain_text("1 customers imported, 1 failed")
    expect(result.locator("tbody tr")).to_have_count(1)
    expect(result.locator("tbody td").first).to_have_text("3")
    admin.check("import-result")
    admin.visit("/admin/customers")
    expect(page.get_by_role("cell", name="Web Import Traders")).to_be_visible()


def test_a_user_added_on_the_page_signs_in_and_deactivation_ends_their_session(visitor: Any, demo: Demo) -> None:
    admin = visitor("admin-users", "+919000000001")
    admin.visit("/admin/users")
    page = admin.page
    page.get_by_text("Add a user").click()
    page.get_by_label("Mobile").fill("+919812300042")
    page.get_by_label("Name", exact=True).fill("Tara Temp")
    page.get_by_label("sales rep").check()
    admin.check("add-user")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text("created")

    them = visitor("new-user", "+919812300042")
    them.visit("/home")
    expect(them.page.get_by_role("heading", level=1)).to_contain_text("Tara Temp")

    admin.page.get_by_role("button", name="Deactivate Tara Temp").click()
    expect(admin.page.get_by_role("status")).to_contain_text("deactivated")
    them.page.goto("/orders")
    assert re.search(r"/sign-in\?next=/orders$", them.page.url), them.page.url


def test_a_limit_request_from_a_dealer_card_is_approved_by_a_controller(visitor: Any, demo: Demo) -> None:
    rep = visitor("manager-credit", demo.mobile_of("sales_manager", 1))  # managers may ask; reps may not
    rep.visit("/dealers")
    rep.page.locator("tbody tr a").first.click()
    rep.check("dealer-card")
    dealer_code = rep.page.get_by_role("heading", level=1).inner_text().split(" · ")[0]
    rep.page.get_by_label("New limit (INR)").fill("2500000")
    rep.page.get_by_label("Reason").fill("festival season stock-up")
    rep.page.get_by_role("button", name="Send for approval").click()
    expect(rep.page.get_by_role("status")).to_contain_text("sent for approval")

    controller = visitor("controller-requests", demo.mobile_of("credit_controller", 0))
    controller.visit("/reports/credit-exposure")
    controller.visit("/reports/credit-holds")
    controller.visit("/credit/requests")
    row = controller.page.locator("tbody tr", has_text="festival season stock-up")
    expect(row).to_contain_text(dealer_code)
    row.get_by_role("button", name="Approve").click()
    expect(controller.page.get_by_role("status")).to_contain_text("approved")
    controller.check("request-approved")
    rep.page.reload()
    expect(rep.page.locator("dl.kv").first).to_contain_text("₹25,00,000.00")

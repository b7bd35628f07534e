"""Page handlers in process: the order form without script (Quote button, submit, idempotent resubmit), the live
quote fragment for htmx, and the hold queue's refusals shown on the page (four eyes)."""

from __future__ import annotations

import re

from prometheus_client import REGISTRY

from tests.api.conftest import Api
from tests.api.test_web_session import csrf, sign_in_page


def order_form(api: Api, token: str, quantity: str, **extra: str) -> dict[str, object]:
    return {
        "csrf_token": token,
        "customer_id": api.customer.id,
        "sku": ["PMP-1", ""],
        "quantity": [quantity, ""],
        "discount_pct": ["10", ""],
        **extra,
    }


class TestOrderForm:
    def test_the_quote_button_shows_totals_and_verdict_without_script(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        token = csrf(api.client.get("/orders/new").text)
        page = api.client.post("/orders/quote", data=order_form(api, token, "2"))
        assert page.status_code == 200 and "<html" in page.text
        # 2 × 420.00 less 10 % = 756.00 net, 18 % tax 136.08, total 892.08; the limit is 10,000.00.
        assert "₹756.00" in page.text and "₹136.08" in page.text and "₹892.08" in page.text
        assert "fits" in page.text

    def test_the_live_quote_is_a_fragment_for_htmx(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        token = csrf(api.client.get("/orders/new").text)
        fragment = api.client.post("/orders/quote", data=order_form(api, token, "100"), headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "would go on credit hold" in fragment.text and "limit exceeded" in fragment.text

    def test_submitting_twice_makes_one_order(self, api: Api) -> None:
        counted = [("crm_orders_total", {"operation": "create", "result": "submitted"})]
        counted += [("crm_idempotent_replays_total", {"operation": "create"})]
        before = [REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in counted]
        sign_in_page(api, api.rep)
        token = csrf(api.client.get("/orders/new").text)
        form = order_form(api, token, "1", idempotency_key="form-key-1", action="submit")
        first = api.client.post("/orders", data=form, follow_redirects=False)
        again = api.client.post("/orders", data=form, follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == again.headers["location"]
        order = api.client.get(first.headers["location"])
        assert "submitted" in order.text and "₹446.04" in order.text
        after = [REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in counted]
        assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]  # one order, one replay (metrics)

    def test_a_draft_submitted_twice_with_its_key_is_one_submit_and_a_replay(self, api: Api) -> None:
        counted = [("crm_orders_total", {"operation": "submit", "result": "submitted"})]
        counted += [("crm_idempotent_replays_total", {"operation": "submit"})]
        draft = api.order(api.rep, submit=False)
        sign_in_page(api, api.rep)
        token = csrf(api.client.get(f"/orders/{draft['id']}").text)
        before = [REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in counted]
        form = {"csrf_token": token, "idempotency_key": "submit-key-1"}
        first = api.client.post(f"/orders/{draft['id']}/submit", data=form, follow_redirects=False)
        again = api.client.post(f"/orders/{draft['id']}/submit", data=form, follow_redirects=False)

        assert (first.status_code, again.status_code) == (303, 303)
        after = [REGISTRY.get_sample_value(name, labels) or 0.0 for name, labels in counted]
        assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]

    def test_a_bad_line_shows_the_form_again_with_the_reason(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        token = csrf(api.client.get("/orders/new").text)
        form = {**order_form(api, token, "1"), "sku": ["NOPE-1", ""]}
        page = api.client.post("/orders", data=form)
        assert page.status_code == 400 and 'role="alert"' in page.text and "NOPE-1" in page.text


class TestHoldQueue:
    def test_the_oldest_hold_comes_first(self, api: Api) -> None:
        older = api.order(api.rep, quantity="100")
        newer = api.order(api.rep, quantity="200")
        assert older["status"] == newer["status"] == "on_credit_hold"
        sign_in_page(api, api.controller)
        queue = api.client.get("/credit/holds").text
        assert 0 < queue.index(older["number"]) < queue.index(newer["number"])

    def test_the_creator_cannot_release_their_own_held_order(self, api: Api) -> None:
        held = api.order(api.admin, quantity="100")
        assert held["status"] == "on_credit_hold"
        sign_in_page(api, api.admin)
        token = csrf(api.client.get("/credit/holds").text)
        refused = api.client.post(
            f"/credit/holds/{held['id']}", data={"csrf_token": token, "decision": "release", "note": "mine"}
        )
        assert refused.status_code == 403 and 'role="alert"' in refused.text
        assert api.client.get(f"/orders/{held['id']}").text.count("on credit hold") >= 1


class TestAttachmentsOnTheOrderPage:
    def test_a_pdf_attached_on_the_page_is_listed_and_downloads(self, api: Api) -> None:
        from tests.api.test_attachments import PDF

        mine = api.order(api.rep)
        sign_in_page(api, api.rep)
        token = csrf(api.client.get(f"/orders/{mine['id']}").text)
        done = api.client.post(
            f"/orders/{mine['id']}/attachments",
            data={"csrf_token": token},
            files={"file": ("delivery note.pdf", PDF, "application/pdf")},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        page = api.client.get(done.headers["location"]).text
        link = re.search(rf'href="(/orders/{mine["id"]}/attachments/[^"]+)">([^<]+)</a>', page)
        assert link and link.group(2).endswith(".pdf")
        download = api.client.get(link.group(1))
        assert download.content == PDF and download.headers["content-disposition"].startswith("attachment")

    def test_an_attachment_without_its_token_is_refused_and_not_stored(self, api: Api) -> None:
        from tests.api.test_attachments import PDF

        mine = api.order(api.rep)
        sign_in_page(api, api.rep)
        refused = api.client.post(
            f"/orders/{mine['id']}/attachments", files={"file": ("x.pdf", PDF, "application/pdf")}
        )
        assert refused.status_code == 403
        assert "/attachments/" not in api.client.get(f"/orders/{mine['id']}").text


def test_what_people_typed_is_shown_as_text_never_as_markup(api: Api) -> None:
    mine = api.order(api.rep, notes='<script src="/x.js"></script><b>urgent</b>')
    sign_in_page(api, api.rep)
    page = api.client.get(f"/orders/{mine['id']}").text
    assert "&lt;script src=&#34;/x.js&#34;&gt;&lt;/script&gt;&lt;b&gt;urgent&lt;/b&gt;" in page
    assert '<script src="/x.js">' not in page


def test_static_assets_are_served_untagged(api: Api) -> None:
    """The ETag hook leaves file answers alone (it once failed on them: every page lost its style sheet)."""
    css = api.client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "--brand" in css.text

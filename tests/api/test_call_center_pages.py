"""The call-center portal's handlers in process (the browser journey is tests/web/test_call_center.py): the lookup
without script, the live quote, placing an order once, logging the call, and what is refused."""

from __future__ import annotations

from typing import Any

from crm_domain.records import PageRequest
from tests.api.conftest import Api
from tests.api.test_web_session import csrf, sign_in_page

BASE = "/call-center"


def dealer_url(api: Api, customer_id: str | None = None) -> str:
    return f"{BASE}/dealers/{customer_id or api.customer.id}"


def lines(token: str, *rows: tuple[str, str, str], key: str = "k-1", **extra: str) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "key": key,
        "sku": [r[0] for r in rows],
        "qty": [r[1] for r in rows],
        "disc": [r[2] for r in rows],
        **extra,
    }


def calls(api: Api) -> list[Any]:
    return api.container.crm.call_log.list(api.admin.actor(), api.customer.id, PageRequest()).items


class TestLookup:
    def test_a_whole_mobile_opens_the_card_and_a_code_prefix_lists_the_dealers(self, api: Api) -> None:
        sign_in_page(api, api.agent)

        opened = api.client.get(f"{BASE}/", params={"q": "+91 91000-00001"}, follow_redirects=False)
        listed = api.client.get(f"{BASE}/", params={"q": "d000"})

        assert opened.status_code == 303 and opened.headers["location"] == dealer_url(api)
        assert listed.status_code == 200 and "D0001" in listed.text and "D0002" in listed.text

    def test_search_as_you_type_is_a_fragment_of_dealers_in_scope(self, api: Api) -> None:
        sign_in_page(api, api.rep)

        fragment = api.client.get(f"{BASE}/search", params={"q": "9100000"}, headers={"HX-Request": "true"})

        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "Jaipur Agro" in fragment.text and "Madurai Pumps" not in fragment.text  # another rep's dealer

    def test_a_query_with_control_characters_is_said_to_be_wrong(self, api: Api) -> None:
        sign_in_page(api, api.agent)

        page = api.client.get(f"{BASE}/", params={"q": "jai\x01pur"})

        assert page.status_code == 200 and 'role="alert"' in page.text and "control characters" in page.text


class TestCardAndOrder:
    def test_the_card_offers_to_repeat_the_last_order_and_shows_the_calls(self, api: Api) -> None:
        order = api.order(api.agent, quantity="3")
        sign_in_page(api, api.agent)

        card = api.client.get(dealer_url(api))
        repeat = api.client.get(f"{dealer_url(api)}/order", params={"repeat": order["id"]})

        assert card.status_code == 200 and order["number"] in card.text and "Repeat last order" in card.text
        assert repeat.status_code == 200 and 'value="PMP-1"' in repeat.text and 'value="3"' in repeat.text
        assert "Order total" in repeat.text and "Fits the credit" in repeat.text  # the quote, without script

    def test_a_dealer_outside_scope_is_the_not_found_page(self, api: Api) -> None:
        sign_in_page(api, api.rep)

        assert api.client.get(dealer_url(api, api.other_customer.id)).status_code == 404
        assert api.client.get(f"{dealer_url(api, api.other_customer.id)}/order").status_code == 404

    def test_the_live_quote_fragment_says_when_the_order_would_go_on_hold(self, api: Api) -> None:
        sign_in_page(api, api.agent)
        token = csrf(api.client.get(f"{dealer_url(api)}/order").text)

        fragment = api.client.post(
            f"{dealer_url(api)}/quote", data=lines(token, ("pmp-1", "100", "")), headers={"HX-Request": "true"}
        )

        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "Would go on credit hold" in fragment.text and "limit exceeded" in fragment.text

    def test_placing_twice_with_the_form_key_is_one_order_then_the_call_is_logged(self, api: Api) -> None:
        sign_in_page(api, api.agent)
        token = csrf(api.client.get(f"{dealer_url(api)}/order").text)
        form = lines(token, ("PMP-1", "2", "5"), ("VLV-1", "1", ""), notes="by Friday")

        first = api.client.post(f"{dealer_url(api)}/order", data=form, follow_redirects=False)
        again = api.client.post(f"{dealer_url(api)}/order", data=form, follow_redirects=False)

        assert first.status_code == 303 and first.headers["location"] == again.headers["location"]
        order_id = first.headers["location"].rsplit("=", 1)[1]
        order = api.container.crm.orders.get(api.admin.actor(), order_id)
        assert (order.channel.value, order.created_by, order.notes) == ("call_center", api.agent.id, "by Friday")
        call_page = api.client.get(first.headers["location"])
        assert order.number in call_page.text
        logged = api.client.post(
            f"{dealer_url(api)}/calls",
            data={
                "csrf_token": token,
                "outcome": "order_placed",
                "direction": "in",
                "order_id": order_id,
                "note": "ok",
            },
            follow_redirects=False,
        )
        assert logged.status_code == 303 and logged.headers["location"] == f"{BASE}/?logged=1"
        assert [(c.outcome.value, c.order_id, c.note) for c in calls(api)] == [("order_placed", order_id, "ok")]

    def test_a_line_without_a_quantity_is_refused_with_its_number(self, api: Api) -> None:
        sign_in_page(api, api.agent)
        token = csrf(api.client.get(f"{dealer_url(api)}/order").text)

        page = api.client.post(f"{dealer_url(api)}/order", data=lines(token, ("PMP-1", "1", ""), ("VLV-1", "", "")))

        assert page.status_code == 400 and "line 2: give both the SKU and the quantity" in page.text
        assert 'value="VLV-1"' in page.text  # what was typed stays


class TestLogTheCall:
    def test_a_bad_outcome_shows_the_form_again_and_logs_nothing(self, api: Api) -> None:
        sign_in_page(api, api.agent)
        token = csrf(api.client.get(f"{dealer_url(api)}/call").text)

        page = api.client.post(
            f"{dealer_url(api)}/calls", data={"csrf_token": token, "outcome": "sold", "note": "keep me"}
        )

        assert page.status_code == 400 and "outcome must be one of" in page.text and "keep me" in page.text
        assert calls(api) == []

    def test_without_the_csrf_token_nothing_is_logged(self, api: Api) -> None:
        sign_in_page(api, api.agent)

        page = api.client.post(f"{dealer_url(api)}/calls", data={"outcome": "callback"})

        assert page.status_code == 403 and calls(api) == []

    def test_a_dealer_user_may_not_log_calls(self, api: Api) -> None:
        sign_in_page(api, api.dealer)
        token = csrf(api.client.get(dealer_url(api)).text)

        page = api.client.post(f"{dealer_url(api)}/calls", data={"csrf_token": token, "outcome": "callback"})

        assert page.status_code == 403 and calls(api) == []

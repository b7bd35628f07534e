"""The web app's "my dealers" search as you type is the one customer search (crm_domain.search), in scope."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.test_web_session import sign_in_page


class TestDealerSearch:
    def test_by_name_words_code_prefix_and_mobile_in_scope(self, api: Api) -> None:
        sign_in_page(api, api.rep)

        def listed(q: str) -> str:
            page = api.client.get("/dealers", params={"q": q})
            assert page.status_code == 200
            return page.text

        assert "Jaipur Agro" in listed("agro jai") and "Madurai Pumps" not in listed("agro jai")
        assert "Jaipur Agro" in listed("d000")
        assert "Jaipur Agro" in listed("091000 00001")
        assert "Madurai Pumps" not in listed("madurai")  # another rep's dealer
        assert "Jaipur Agro" not in listed("raders")  # a word's inside is not its start

    def test_a_query_with_control_characters_is_said_to_be_wrong(self, api: Api) -> None:
        sign_in_page(api, api.rep)

        page = api.client.get("/dealers", params={"q": "jai\x01pur"})

        assert page.status_code == 200 and 'role="alert"' in page.text and "control characters" in page.text

"""/api/v1/users over HTTP: create, list, read, change; deactivation ends sessions and sign-in."""

from __future__ import annotations

from typing import Any

import pytest

from crm_domain.services.users import NewUser
from crm_domain.users import Role
from tests.api.conftest import Api, problem

USERS = "/api/v1/users"


def all_users(api: Api) -> list[dict[str, Any]]:
    response = api.client.get(USERS, params={"limit": 200}, headers=api.login(api.admin))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def walk(api: Api, headers: dict[str, str], limit: int) -> list[list[str]]:
    """Every page of the user list, as lists of ids."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(USERS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([u["id"] for u in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


class TestCreateUser:
    def test_admin_creates_a_user_and_reads_it_back(self, api: Api) -> None:
        body = {
            "mobile": "98765 43210",
            "name": "Neha New",
            "roles": ["sales_rep"],
            "email": "neha@example.com",
            "manager_id": api.manager.id,
            "territory": "West",
        }
        response = api.client.post(USERS, json=body, headers=api.login(api.admin))
        assert response.status_code == 201, response.text
        created = response.json()
        assert created == {
            "id": created["id"],
            "mobile": "+919876543210",
            "name": "Neha New",
            "email": "neha@example.com",
            "roles": ["sales_rep"],
            "manager_id": api.manager.id,
            "territory": "West",
            "customer_id": None,
            "active": True,
            "permissions": None,
            "created_at": created["created_at"],
            "updated_at": created["created_at"],
        }
        assert api.client.get(f"{USERS}/{created['id']}", headers=api.login(api.admin)).json() == created
        # The manager sees the new rep in their team.
        team = api.client.get(USERS, headers=api.login(api.manager)).json()["items"]
        assert created["id"] in {u["id"] for u in team}

    def test_dealer_user_belongs_to_a_customer(self, api: Api) -> None:
        body = {"mobile": "+919876500001", "name": "Dev Dealer", "roles": ["dealer"], "customer_id": api.customer.id}
        response = api.client.post(USERS, json=body, headers=api.login(api.admin))
        assert response.status_code == 201, response.text
        assert response.json()["customer_id"] == api.customer.id

    def test_a_taken_mobile_is_409_in_any_spelling(self, api: Api) -> None:
        before = all_users(api)
        for mobile in (api.rep.mobile, "9000000004", "+91 90000 00004"):
            body = {"mobile": mobile, "name": "Copy", "roles": ["sales_rep"]}
            problem(api.client.post(USERS, json=body, headers=api.login(api.admin)), 409, "duplicate")
        assert all_users(api) == before

    def test_without_a_token_is_401(self, api: Api) -> None:
        body = {"mobile": "+919876500002", "name": "X", "roles": ["sales_rep"]}
        problem(api.client.post(USERS, json=body), 401)
        problem(api.client.get(USERS), 401)
        problem(api.client.get(f"{USERS}/{api.rep.id}"), 401)
        problem(api.client.patch(f"{USERS}/{api.rep.id}", json={"name": "X"}), 401)
        problem(api.client.get(USERS, headers={"Authorization": "Bearer not-a-token"}), 401)

    @pytest.mark.parametrize("who", ["manager", "controller", "rep", "dealer"])
    def test_only_admins_create_users(self, api: Api, who: str) -> None:
        before = all_users(api)
        body = {"mobile": "+919876500003", "name": "Sneaky", "roles": ["admin"]}
        response = api.client.post(USERS, json=body, headers=api.login(getattr(api, who)))
        problem(response, 403, "permission_denied")
        assert all_users(api) == before

    @pytest.mark.parametrize(
        "change",
        [
            {"name": {"$gt": ""}},
            {"mobile": {"$ne": None}},
            {"mobile": 919876500004},
            {"mobile": "12345"},
            {"mobile": "not a phone"},
            {"roles": "admin"},
            {"roles": []},
            {"roles": ["king"]},
            {"roles": [{"$in": ["admin"]}]},
            {"email": "not-an-email"},
            {"manager_id": "no-such-user"},
            {"manager_id": {"$exists": True}},
            {"roles": ["dealer"]},
            {"customer_id": "no-such-customer", "roles": ["dealer"]},
            {"customer_id": "C1"},
            {"name": "   "},
            {"password": "hunter2"},
            {"active": False},
        ],
    )
    def test_bad_input_is_400_and_creates_nothing(self, api: Api, change: dict[str, Any]) -> None:
        before = all_users(api)
        body = {"mobile": "+919876500004", "name": "Valid Name", "roles": ["sales_rep"], **change}
        problem(api.client.post(USERS, json=body, headers=api.login(api.admin)), 400)
        assert all_users(api) == before

    def test_malformed_json_is_400(self, api: Api) -> None:
        headers = {**api.login(api.admin), "Content-Type": "application/json"}
        problem(api.client.post(USERS, content=b'{"mobile": ', headers=headers), 400)


class TestReadUsers:
    def test_each_role_lists_whom_it_may_see(self, api: Api) -> None:
        def listed(who: Any) -> set[str]:
            response = api.client.get(USERS, headers=api.login(who))
            assert response.status_code == 200, response.text
            return {u["id"] for u in response.json()["items"]}

        assert listed(api.head) == {api.head.id, api.manager.id, api.rep.id, api.other_rep.id}
        assert listed(api.manager) == {api.manager.id, api.rep.id}
        assert listed(api.rep) == {api.rep.id}
        assert listed(api.dealer) == {api.dealer.id}
        assert len(listed(api.admin)) == 8

    def test_outside_ones_team_is_404(self, api: Api) -> None:
        problem(api.client.get(f"{USERS}/{api.other_rep.id}", headers=api.login(api.manager)), 404, "not_found")
        problem(api.client.get(f"{USERS}/{api.rep.id}", headers=api.login(api.other_rep)), 404, "not_found")
        problem(api.client.get(f"{USERS}/{api.admin.id}", headers=api.login(api.dealer)), 404, "not_found")
        problem(api.client.get(f"{USERS}/no-such-user", headers=api.login(api.admin)), 404, "not_found")
        assert api.client.get(f"{USERS}/{api.rep.id}", headers=api.login(api.head)).status_code == 200
        own = api.client.get(f"{USERS}/{api.rep.id}", headers=api.login(api.rep))
        assert own.status_code == 200
        assert own.json()["name"] == "Ravi Rep"

    def test_pagination_walks_every_user_once(self, api: Api) -> None:
        admin = api.admin.actor()
        for n in range(7):
            api.container.crm.users.create(
                admin, NewUser(mobile=f"+91987650010{n}", name=f"Paged {n}", roles=frozenset({Role.SALES_REP}))
            )
        pages = walk(api, api.login(api.admin), limit=4)
        ids = [i for page in pages for i in page]
        assert len(ids) == len(set(ids)) == 15
        assert set(ids) == {u["id"] for u in all_users(api)}
        assert [len(p) for p in pages] == [4, 4, 4, 3]

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"cursor": "garbage!"}])
    def test_bad_paging_is_400(self, api: Api, params: dict[str, Any]) -> None:
        problem(api.client.get(USERS, params=params, headers=api.login(api.admin)), 400)


class TestUpdateUser:
    def test_admin_changes_a_user_and_their_session_survives(self, api: Api) -> None:
        rep_headers = api.login(api.rep)
        change = {"name": "Ravi Kumar", "territory": "West", "email": "ravi@example.com", "manager_id": api.head.id}
        response = api.client.patch(f"{USERS}/{api.rep.id}", json=change, headers=api.login(api.admin))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "id": api.rep.id,
            "mobile": api.rep.mobile,
            "name": "Ravi Kumar",
            "email": "ravi@example.com",
            "roles": ["sales_rep"],
            "manager_id": api.head.id,
            "territory": "West",
            "customer_id": None,
            "active": True,
            "permissions": None,
            "created_at": response.json()["created_at"],
            "updated_at": response.json()["updated_at"],
        }
        assert response.json()["updated_at"] > response.json()["created_at"]
        assert api.client.get("/api/v1/auth/me", headers=rep_headers).json()["name"] == "Ravi Kumar"
        # Clearing an optional field with null.
        cleared = api.client.patch(f"{USERS}/{api.rep.id}", json={"email": None}, headers=api.login(api.admin))
        assert cleared.json()["email"] is None

    def test_deactivation_ends_sessions_and_sign_in(self, api: Api) -> None:
        tokens = api.sign_in(api.rep)
        rep_headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert api.client.get("/api/v1/auth/me", headers=rep_headers).status_code == 200
        # The agent asks for a code while still active, and is deactivated before using it.
        asked = api.client.post("/api/v1/auth/otp/request", json={"mobile": api.agent.mobile})
        assert asked.status_code == 202
        code = api.last_otp(api.agent.mobile)

        admin = api.login(api.admin)
        for user in (api.rep, api.agent):
            response = api.client.patch(f"{USERS}/{user.id}", json={"active": False}, headers=admin)
            assert response.status_code == 200, response.text
            assert response.json()["active"] is False

        problem(api.client.get("/api/v1/auth/me", headers=rep_headers), 401)
        problem(api.client.get("/api/v1/orders", headers=rep_headers), 401)
        problem(api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}), 401)
        verify = api.client.post("/api/v1/auth/otp/verify", json={"mobile": api.agent.mobile, "otp": code})
        problem(verify, 401)

    def test_a_role_change_ends_sessions(self, api: Api) -> None:
        rep_headers = api.login(api.rep)
        dealer_headers = api.login(api.dealer)
        change = {"roles": ["sales_rep", "call_center_agent"]}
        response = api.client.patch(f"{USERS}/{api.rep.id}", json=change, headers=api.login(api.admin))
        assert response.status_code == 200, response.text
        assert response.json()["roles"] == ["call_center_agent", "sales_rep"]
        problem(api.client.get("/api/v1/auth/me", headers=rep_headers), 401)
        moved = {"customer_id": api.other_customer.id}
        assert api.client.patch(f"{USERS}/{api.dealer.id}", json=moved, headers=api.login(api.admin)).status_code == 200
        problem(api.client.get("/api/v1/auth/me", headers=dealer_headers), 401)
        # Other people's sessions are untouched.
        assert api.client.get("/api/v1/auth/me", headers=api.login(api.manager)).status_code == 200

    def test_a_taken_mobile_is_409(self, api: Api) -> None:
        response = api.client.patch(
            f"{USERS}/{api.rep.id}", json={"mobile": api.other_rep.mobile}, headers=api.login(api.admin)
        )
        problem(response, 409, "duplicate")
        assert api.client.get(f"{USERS}/{api.rep.id}", headers=api.login(api.admin)).json()["mobile"] == api.rep.mobile

    @pytest.mark.parametrize("who", ["manager", "head", "rep", "controller"])
    def test_only_admins_change_users(self, api: Api, who: str) -> None:
        response = api.client.patch(
            f"{USERS}/{api.rep.id}", json={"active": False}, headers=api.login(getattr(api, who))
        )
        problem(response, 403, "permission_denied")
        assert api.client.get("/api/v1/auth/me", headers=api.login(api.rep)).json()["active"] is True

    def test_unknown_user_is_404(self, api: Api) -> None:
        response = api.client.patch(f"{USERS}/no-such-user", json={"name": "X"}, headers=api.login(api.admin))
        problem(response, 404, "not_found")

    @pytest.mark.parametrize(
        "change",
        [
            {"active": "false"},
            {"active": 0},
            {"active": None},
            {"name": None},
            {"roles": None},
            {"mobile": None},
            {"name": {"$gt": ""}},
            {"territory": {"$ne": ""}},
            {"mobile": "123"},
            {"roles": ["emperor"]},
            {"manager_id": "no-such-user"},
            {"customer_id": "C-1"},
            {"id": "new-id"},
            {"created_at": "2020-01-01T00:00:00Z"},
        ],
    )
    def test_bad_changes_are_400_and_change_nothing(self, api: Api, change: dict[str, Any]) -> None:
        rep_headers = api.login(api.rep)
        before = api.client.get(f"{USERS}/{api.rep.id}", headers=api.login(api.admin)).json()
        problem(api.client.patch(f"{USERS}/{api.rep.id}", json=change, headers=api.login(api.admin)), 400)
        assert api.client.get(f"{USERS}/{api.rep.id}", headers=api.login(api.admin)).json() == before
        assert api.client.get("/api/v1/auth/me", headers=rep_headers).status_code == 200

    def test_admins_cannot_deactivate_themselves(self, api: Api) -> None:
        headers = api.login(api.admin)
        problem(api.client.patch(f"{USERS}/{api.admin.id}", json={"active": False}, headers=headers), 400)
        assert api.client.get("/api/v1/auth/me", headers=headers).json()["active"] is True

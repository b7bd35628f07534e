"""/api/v1/targets and /api/v1/performance over HTTP: setting targets in scope, achieved figures after real
orders, managers' roll-ups and the leaderboard."""

from __future__ import annotations

from typing import Any

import pytest

from crm_domain.performance import period_of
from crm_domain.services.users import NewUser
from crm_domain.users import Role
from tests.api.conftest import Api


def current_period(api: Api) -> str:
    """The month the app's clock is in, in the company time zone (2026-11 for the test clock)."""
    ctx = api.container.crm.ctx
    return period_of(ctx.now(), ctx.config.tz)


def put_target(api: Api, by: Any, user_id: str, amount: str, period: str | None = None) -> Any:
    body = {"user_id": user_id, "period": period or current_period(api), "amount": amount}
    return api.client.put("/api/v1/targets", json=body, headers=api.login(by))


def _is_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail", "code"} <= set(response.json())


class TestSetTarget:
    def test_a_manager_sets_a_target_for_a_rep_in_the_team(self, api: Api) -> None:
        period = current_period(api)
        response = put_target(api, api.manager, api.rep.id, "250000.00")
        assert response.status_code == 200, response.text
        target = response.json()
        assert target == {
            "user_id": api.rep.id,
            "period": period,
            "amount": "250000.00",
            "currency": "INR",
            "set_by": api.manager.id,
            "updated_at": target["updated_at"],
        }

        listed = api.client.get("/api/v1/targets", params={"period": period}, headers=api.login(api.manager))
        assert listed.json() == {"items": [target]}

    def test_putting_again_replaces_the_target(self, api: Api) -> None:
        put_target(api, api.manager, api.rep.id, "1000.00")
        put_target(api, api.head, api.rep.id, "2000.00")
        items = api.client.get("/api/v1/targets", headers=api.login(api.head)).json()["items"]
        assert [(t["user_id"], t["amount"], t["set_by"]) for t in items] == [(api.rep.id, "2000.00", api.head.id)]

    def test_an_admin_sets_targets_for_anyone(self, api: Api) -> None:
        for user in (api.rep, api.other_rep):
            assert put_target(api, api.admin, user.id, "500.00").status_code == 200
        items = api.client.get("/api/v1/targets", headers=api.login(api.admin)).json()["items"]
        assert sorted(t["user_id"] for t in items) == sorted([api.rep.id, api.other_rep.id])

    def test_a_manager_cannot_reach_beyond_the_team(self, api: Api) -> None:
        response = put_target(api, api.manager, api.other_rep.id, "1000.00")
        _is_problem(response, 404)
        assert response.json()["code"] == "not_found"
        _is_problem(put_target(api, api.manager, "no-such-user", "1000.00"), 404)
        assert api.client.get("/api/v1/targets", headers=api.login(api.admin)).json()["items"] == []

    @pytest.mark.parametrize("user", ["rep", "dealer", "agent", "controller"])
    def test_roles_without_target_write_get_403(self, api: Api, user: str) -> None:
        response = put_target(api, getattr(api, user), api.rep.id, "1000.00")
        _is_problem(response, 403)
        assert response.json()["code"] == "permission_denied"
        assert api.client.get("/api/v1/targets", headers=api.login(api.admin)).json()["items"] == []

    def test_without_a_token_is_401(self, api: Api) -> None:
        body = {"user_id": api.rep.id, "period": "2026-11", "amount": "1.00"}
        _is_problem(api.client.put("/api/v1/targets", json=body), 401)

    @pytest.mark.parametrize(
        "changes",
        [
            {"period": "2026-13"},
            {"period": "2026-00"},
            {"period": "2026-1"},
            {"period": "26-11"},
            {"period": 202611},
            {"amount": "250000.001"},
            {"amount": 250000},
            {"amount": "-5.00"},
            {"amount": "1,000.00"},
            {"amount": {"$gt": ""}},
            {"user_id": {"$gt": ""}},
            {"user_id": "../admin"},
            {"currency": "USD"},
            {"currency": "usd"},
            {"team": "all"},
        ],
    )
    def test_bad_input_is_400_and_stores_nothing(self, api: Api, changes: dict[str, Any]) -> None:
        body = {"user_id": api.rep.id, "period": "2026-11", "amount": "250000.00", **changes}
        response = api.client.put("/api/v1/targets", json=body, headers=api.login(api.admin))
        _is_problem(response, 400)
        for period in ("2026-11", current_period(api)):
            assert (
                api.client.get("/api/v1/targets", params={"period": period}, headers=api.login(api.admin)).json()[
                    "items"
                ]
                == []
            )

    def test_missing_fields_are_400(self, api: Api) -> None:
        response = api.client.put("/api/v1/targets", json={"user_id": api.rep.id}, headers=api.login(api.admin))
        _is_problem(response, 400)


class TestListTargets:
    def test_each_sees_the_targets_in_scope(self, api: Api) -> None:
        for user, amount in ((api.rep, "100.00"), (api.other_rep, "200.00"), (api.manager, "300.00")):
            put_target(api, api.admin, user.id, amount)

        def amounts(viewer: Any) -> list[str]:
            items = api.client.get("/api/v1/targets", headers=api.login(viewer)).json()["items"]
            return sorted(t["amount"] for t in items)

        assert amounts(api.rep) == ["100.00"]
        assert amounts(api.manager) == ["100.00", "300.00"]
        assert amounts(api.head) == ["100.00", "200.00", "300.00"]

    def test_another_month_is_separate(self, api: Api) -> None:
        put_target(api, api.admin, api.rep.id, "100.00", period="2027-01")
        headers = api.login(api.admin)
        assert api.client.get("/api/v1/targets", params={"period": "2027-01"}, headers=headers).json()["items"]
        assert api.client.get("/api/v1/targets", params={"period": "2026-12"}, headers=headers).json()["items"] == []

    def test_errors(self, api: Api) -> None:
        _is_problem(api.client.get("/api/v1/targets"), 401)
        _is_problem(api.client.get("/api/v1/targets", headers=api.login(api.dealer)), 403)
        for bad in ("2026-13", "2026-11-01", "November"):
            _is_problem(api.client.get("/api/v1/targets", params={"period": bad}, headers=api.login(api.rep)), 400)


class TestPerformance:
    def test_an_order_counts_for_the_rep_in_the_current_month(self, api: Api) -> None:
        api.order(api.rep, quantity="10")
        period = current_period(api)
        response = api.client.get(
            "/api/v1/performance", params={"period": period, "user_id": api.rep.id}, headers=api.login(api.rep)
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "items": [
                {
                    "user_id": api.rep.id,
                    "name": "Ravi Rep",
                    "period": period,
                    "target": None,
                    "achieved": "4956.00",
                    "achievement_pct": None,
                    "orders": 1,
                    "currency": "INR",
                    "team_size": 0,
                    "rank": None,  # only leaderboard rows are ranked
                }
            ]
        }

    def test_achievement_pct_has_two_places(self, api: Api) -> None:
        api.order(api.rep, quantity="10")
        put_target(api, api.manager, api.rep.id, "10000.00")
        row = api.client.get("/api/v1/performance", params={"user_id": api.rep.id}, headers=api.login(api.rep)).json()[
            "items"
        ][0]
        assert (row["target"], row["achieved"], row["achievement_pct"]) == ("10000.00", "4956.00", "49.56")

    def test_drafts_and_other_months_do_not_count(self, api: Api) -> None:
        api.order(api.rep, quantity="10", submit=False)
        params = {"user_id": api.rep.id}
        row = api.client.get("/api/v1/performance", params=params, headers=api.login(api.rep)).json()["items"][0]
        assert (row["achieved"], row["orders"]) == ("0.00", 0)
        api.order(api.rep, quantity="10")
        other_month = api.client.get(
            "/api/v1/performance", params={**params, "period": "2020-01"}, headers=api.login(api.rep)
        ).json()["items"][0]
        assert (other_month["achieved"], other_month["orders"]) == ("0.00", 0)

    def test_managers_roll_up_everyone_under_them(self, api: Api) -> None:
        api.order(api.rep, quantity="10")
        rows = api.client.get("/api/v1/performance", headers=api.login(api.manager)).json()["items"]
        by_user = {r["user_id"]: r for r in rows}
        assert set(by_user) == {api.manager.id, api.rep.id}
        assert (by_user[api.manager.id]["achieved"], by_user[api.manager.id]["orders"]) == ("4956.00", 1)
        assert by_user[api.manager.id]["team_size"] == 1

        head = api.client.get(
            "/api/v1/performance", params={"user_id": api.head.id}, headers=api.login(api.head)
        ).json()["items"][0]
        assert (head["achieved"], head["orders"], head["team_size"]) == ("4956.00", 1, 3)

    def test_a_rep_sees_only_their_own_figures(self, api: Api) -> None:
        rows = api.client.get("/api/v1/performance", headers=api.login(api.rep)).json()["items"]
        assert [r["user_id"] for r in rows] == [api.rep.id]
        response = api.client.get(
            "/api/v1/performance", params={"user_id": api.other_rep.id}, headers=api.login(api.rep)
        )
        _is_problem(response, 404)

    def test_errors(self, api: Api) -> None:
        _is_problem(api.client.get("/api/v1/performance"), 401)
        _is_problem(api.client.get("/api/v1/performance", headers=api.login(api.dealer)), 403)
        _is_problem(
            api.client.get("/api/v1/performance", params={"period": "2026-13"}, headers=api.login(api.rep)), 400
        )
        _is_problem(
            api.client.get("/api/v1/performance", params={"user_id": {"$gt": ""}}, headers=api.login(api.rep)), 404
        )


class TestLeaderboard:
    def test_reps_rank_by_achievement_pct_then_achieved(self, api: Api) -> None:
        crm = api.container.crm
        newcomer = crm.users.create(
            api.admin.actor(),
            NewUser(mobile="+919000000009", name="Nina New", roles=frozenset({Role.SALES_REP}), manager_id=api.head.id),
        )
        api.order(api.rep, quantity="10")  # 4956.00 of 10000.00: 49.56 %
        api.order(api.other_rep, quantity="1", customer_id=api.other_customer.id)  # 495.60 of 500.00: 99.12 %
        put_target(api, api.admin, api.rep.id, "10000.00")
        put_target(api, api.admin, api.other_rep.id, "500.00")
        period = current_period(api)

        response = api.client.get(
            "/api/v1/performance/leaderboard", params={"period": period}, headers=api.login(api.admin)
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [(r["user_id"], r["achievement_pct"], r["rank"]) for r in items] == [
            (api.other_rep.id, "99.12", 1),
            (api.rep.id, "49.56", 2),
            (newcomer.id, None, 3),
        ]
        assert items[0] == {
            "user_id": api.other_rep.id,
            "name": "Omar Rep",
            "period": period,
            "target": "500.00",
            "achieved": "495.60",
            "achievement_pct": "99.12",
            "orders": 1,
            "currency": "INR",
            "team_size": 0,
            "rank": 1,
        }

    def test_the_board_is_scoped(self, api: Api) -> None:
        def board(viewer: Any) -> list[str]:
            items = api.client.get("/api/v1/performance/leaderboard", headers=api.login(viewer)).json()["items"]
            return [r["user_id"] for r in items]

        assert board(api.manager) == [api.rep.id]
        assert sorted(board(api.head)) == sorted([api.rep.id, api.other_rep.id])
        assert board(api.rep) == [api.rep.id]

    def test_errors(self, api: Api) -> None:
        _is_problem(api.client.get("/api/v1/performance/leaderboard"), 401)
        _is_problem(api.client.get("/api/v1/performance/leaderboard", headers=api.login(api.agent)), 403)
        _is_problem(
            api.client.get(
                "/api/v1/performance/leaderboard", params={"period": "2026-13"}, headers=api.login(api.head)
            ),
            400,
        )

"""The `crm` command line: bootstrap, imports with per-row errors, credit, demo data, configuration."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from crm_domain.orders import OrderStatus
from crm_domain.records import PageRequest
from entrypoints.cli.context import OPERATOR, container
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


class TestUsers:
    def test_create_admin_then_list(self, crm_cli: Cli) -> None:
        created = crm_cli("users", "create-admin", "--mobile", "98765 43210", "--name", "Asha Admin")
        assert created.code == 0, created.err
        assert "+919876543210" in created.out
        listed = crm_cli("users", "list")
        assert "Asha Admin" in listed.out and "admin" in listed.out

    def test_duplicate_mobile_is_one_line_and_exit_1(self, crm_cli: Cli) -> None:
        crm_cli("users", "create-admin", "--mobile", "9876543210", "--name", "Asha")
        again = crm_cli("users", "create-admin", "--mobile", "+91 98765 43210", "--name", "Other")
        assert again.code == 1
        assert again.err.strip().count("\n") == 0
        assert "already exists" in again.err and "Traceback" not in again.err

    def test_bad_mobile_is_a_business_error(self, crm_cli: Cli) -> None:
        result = crm_cli("users", "create-admin", "--mobile", "12", "--name", "X")
        assert result.code == 1
        assert "mobile" in result.err


class TestUsage:
    def test_unknown_command_exits_2(self, crm_cli: Cli) -> None:
        result = crm_cli("users", "frobnicate")
        assert result.code == 2
        assert result.err.startswith("usage error:")

    def test_missing_option_exits_2(self, crm_cli: Cli) -> None:
        result = crm_cli("users", "create-admin", "--mobile", "9876543210")
        assert result.code == 2
        assert "--name" in result.err

    def test_missing_file_exits_2(self, crm_cli: Cli, tmp_path: Path) -> None:
        result = crm_cli("products", "import", str(tmp_path / "nope.csv"))
        assert result.code == 2


class TestProductImport:
    def test_good_rows_are_kept_and_bad_rows_reported_with_line_numbers(self, crm_cli: Cli, tmp_path: Path) -> None:
        csv_file = write(
            tmp_path / "products.csv",
            """
sku,name,unit_price,uom,tax_rate,min_order_qty,active
PMP-1,Pump 1 HP,4200.00,EA,18,1,yes
PMP-2,Pump 2 HP,12.345,EA,18,1,yes
PMP-3,,100.00,EA,18,1,yes
VLV-1,Valve,350.50,EA,150,1,yes
PMP-1,Pump again,1.00,EA,18,1,yes
PIP-1,Pipe,45.00,M,12,10,no
""",
        )
        result = crm_cli("products", "import", str(csv_file))
        assert result.code == 1
        assert "imported 2 products, 4 failed" in result.out
        for line, reason in [("3", "at most two places"), ("4", "name"), ("5", "tax_rate"), ("6", "more than once")]:
            assert re.search(rf"^line {line}: .*{reason}", result.err, re.M), (line, reason, result.err)
        crm = container().crm
        skus = [p.sku for p in crm.catalogue.list(OPERATOR, PageRequest()).items]
        assert skus == ["PIP-1", "PMP-1"]
        pipe = crm.catalogue.get(OPERATOR, "PIP-1")
        assert not pipe.active and str(pipe.min_order_qty) == "10"
        assert crm.catalogue.get(OPERATOR, "PMP-1").unit_price.decimal_string() == "4200.00"

    def test_missing_column_fails_the_file(self, crm_cli: Cli, tmp_path: Path) -> None:
        csv_file = write(tmp_path / "p.csv", "sku,name\nA,B\n")
        result = crm_cli("products", "import", str(csv_file))
        assert result.code == 1
        assert "missing column(s) unit_price" in result.err

    def test_reimport_replaces_by_sku(self, crm_cli: Cli, tmp_path: Path) -> None:
        crm_cli("products", "import", str(write(tmp_path / "a.csv", "sku,name,unit_price\nA-1,Old,1.00\n")))
        result = crm_cli("products", "import", str(write(tmp_path / "b.csv", "sku,name,unit_price\nA-1,New,2.50\n")))
        assert result.code == 0
        product = container().crm.catalogue.get(OPERATOR, "A-1")
        assert (product.name, product.unit_price.decimal_string()) == ("New", "2.50")


class TestCustomerImport:
    def test_import_assigns_reps_and_updates_existing_codes(self, crm_cli: Cli, tmp_path: Path) -> None:
        crm_cli("users", "create-admin", "--mobile", "9876543210", "--name", "Asha")
        first = write(
            tmp_path / "c1.csv",
            """
code,name,mobile,credit_limit,territory,assigned_rep_mobile,tolerance_pct,overdue_block_days
D1,Jaipur Agro,9876500011,100000.00,North,9876543210,5,60
D2,Bad Mobile,12,5000.00,North,,0,
D3,No Rep,9876500013,5000.00,North,9999999999,0,
D4,Bad limit,9876500014,-5,North,,0,
""",
        )
        result = crm_cli("customers", "import", str(first))
        assert result.code == 1
        assert "imported 1 customers, 3 failed" in result.out
        crm = container().crm
        view = crm.customers.get_by_code(OPERATOR, "D1")
        assert view.account.limit == 10_000_000
        assert str(view.account.tolerance_pct) == "5"
        assert view.account.overdue_block_days == 60
        assert view.customer.assigned_rep_id is not None

        columns = "code,name,mobile,credit_limit,tolerance_pct,overdue_block_days"
        second = write(tmp_path / "c2.csv", f"{columns}\nD1,Jaipur Agro Traders,9876500011,80000,5,60\n")
        assert crm_cli("customers", "import", str(second)).code == 0  # a lower limit applies at once
        view = crm.customers.get_by_code(OPERATOR, "D1")
        assert view.customer.name == "Jaipur Agro Traders"
        assert view.account.limit == 8_000_000
        history = crm.credit.limit_history(OPERATOR, view.customer.id)
        assert [(h.kind, h.old, h.new) for h in history if h.kind == "limit"] == [("limit", "100000.00", "80000.00")]
        # a raise of an existing customer is refused (tests/security/test_credit_governance.py)
        third = write(tmp_path / "c3.csv", f"{columns}\nD1,Jaipur Agro Traders,9876500011,150000,5,60\n")
        assert crm_cli("customers", "import", str(third)).code == 1


class TestCreditShow:
    def test_unknown_code_is_not_found(self, crm_cli: Cli) -> None:
        result = crm_cli("credit", "show", "NOPE")
        assert result.code == 1
        assert "not found" in result.err

    def test_shows_the_position(self, crm_cli: Cli, tmp_path: Path) -> None:
        crm_cli(
            "customers",
            "import",
            str(write(tmp_path / "c.csv", "code,name,mobile,credit_limit\nD9,Dealer,9876500019,2500.50\n")),
        )
        result = crm_cli("credit", "show", "D9")
        assert result.code == 0
        assert "2500.50" in result.out and "available" in result.out


class TestDemoSeed:
    def test_seeds_every_role_dealers_products_and_orders_in_every_state(self, crm_cli: Cli) -> None:
        result = crm_cli("demo", "seed")
        assert result.code == 0, result.err
        crm = container().crm
        users = crm.users.list(OPERATOR, PageRequest(limit=200)).items
        roles = {role for user in users for role in user.roles}
        assert {r.value for r in roles} == {
            "admin",
            "sales_manager",
            "sales_rep",
            "dealer",
            "call_center_agent",
            "credit_controller",
        }
        assert any(u.manager_id and crm.users.get(OPERATOR, u.manager_id).manager_id for u in users)
        assert len(crm.customers.list(OPERATOR, PageRequest(limit=200)).items) == 50
        assert len(crm.catalogue.list(OPERATOR, PageRequest(limit=200)).items) == 200
        statuses = set()
        cursor = None
        while True:
            page = crm.orders.list(OPERATOR, PageRequest(limit=200, cursor=cursor))
            statuses |= {o.status for o in page.items}
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert statuses == set(OrderStatus)
        assert "D0001" in crm_cli("credit", "show", "D0001").out

        again = crm_cli("demo", "seed", "--if-empty")
        assert again.code == 0 and "nothing to do" in again.out
        assert crm_cli("demo", "seed").code == 1


class TestConfigShow:
    def test_secrets_are_redacted(self, crm_cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setenv("CRM_JWT_SECRET", "s3cret-value-that-is-long-enough-0123456789")
        monkeypatch.setenv("CRM_REDIS_URL", "redis://user:hunter2@localhost:6379/0")
        monkeypatch.setenv("CRM_SAP_PASSWORD", "sap-pass-42")
        result = crm_cli("config", "show")
        assert result.code == 0
        for secret in ("s3cret-value", "hunter2", "sap-pass-42"):
            assert secret not in result.out
        assert '"jwt_secret": "***"' in result.out
        assert "redis://user:***@localhost:6379/0" in result.out

    def test_prod_refuses_weak_settings_with_exit_2(self, crm_cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setenv("CRM_ENV", "prod")
        monkeypatch.setenv("CRM_JWT_SECRET", "short")
        result = crm_cli("config", "show")
        assert result.code == 2
        assert "CRM_JWT_SECRET" in result.err
        assert "short" not in result.err

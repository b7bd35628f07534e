"""`crm orders import FILE` (SPEC §6): rows grouped into orders by order_ref, created with channel `import` and
submitted (credit-checked), failing rows reported with their line number, idempotent on re-import."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from crm_domain.money import Money
from crm_domain.orders import Order
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from entrypoints.cli.context import OPERATOR, container
from tests.cli.conftest import Result

Cli = Callable[..., Result]

FILE = """
order_ref,customer_code,sku,quantity,discount_pct,notes
PO-1,D0001,PMP-1,2,,first order
PO-1,D0001,VLV-1,4,10,
PO-2,D0001,PMP-1,200,,too big
PO-3,D0001,NOPE,1,,
PO-3,D0001,PMP-1,1,,
PO-4,NOBODY,PMP-1,1,,
PO-5,D0001,PMP-1,abc,,
PO-6,D0001,PMP-1,1,,
PO-6,D0002,VLV-1,1,,
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip(), encoding="utf-8")
    return path


def setup_world() -> None:
    crm = container().crm
    for code in ("D0001", "D0002"):
        crm.customers.create(
            OPERATOR,
            NewCustomer(
                code=code, name=f"Dealer {code}", mobile="+919100000001", credit_limit=Money.of("10000.00", "INR")
            ),
        )
    crm.catalogue.create(OPERATOR, NewProduct(sku="PMP-1", name="Pump", unit_price=Money.of("100.00", "INR")))
    crm.catalogue.create(OPERATOR, NewProduct(sku="VLV-1", name="Valve", unit_price=Money.of("50.00", "INR")))


def orders() -> list[Order]:
    return container().crm.orders.list(OPERATOR, PageRequest(limit=200), OrderQuery()).items


class TestOrderImport:
    def test_good_orders_are_kept_and_every_failing_row_reported(self, crm_cli: Cli, tmp_path: Path) -> None:
        setup_world()
        result = crm_cli("orders", "import", str(write(tmp_path / "orders.csv", FILE)))
        assert result.code == 1
        assert "imported 2 orders, 6 failed" in result.out
        assert "1 submitted, 1 on credit hold, 0 draft, 0 already imported" in result.out
        for line, reason in [
            ("5", "unknown SKU 'NOPE'"),
            ("6", r"order PO-3 not imported \(line 5 failed\)"),
            ("7", "customer"),
            ("8", "quantity"),
            ("9", r"order PO-6 not imported \(line 10 failed\)"),
            ("10", "is for customer D0001"),
        ]:
            assert re.search(rf"^line {line}: .*{reason}", result.err, re.M), (line, reason, result.err)
        by_notes = {o.notes: o for o in orders()}
        assert set(by_notes) == {"first order", "too big"}
        first = by_notes["first order"]
        assert (first.status.value, first.channel.value, first.total) == (
            "submitted",
            "import",
            Money.of("380.00", "INR"),
        )
        assert [(line.sku, line.quantity, line.discount_pct) for line in first.lines] == [
            ("PMP-1", Decimal(2), Decimal(0)),
            ("VLV-1", Decimal(4), Decimal(10)),
        ]
        assert by_notes["too big"].status.value == "on_credit_hold"
        position = container().crm.credit.position(OPERATOR, first.customer_id)
        assert position.open_orders == Money.of("380.00", "INR")

    def test_importing_the_same_file_again_creates_nothing(self, crm_cli: Cli, tmp_path: Path) -> None:
        setup_world()
        path = write(tmp_path / "orders.csv", FILE)
        crm_cli("orders", "import", str(path))
        before = sorted((o.id, o.version) for o in orders())
        again = crm_cli("orders", "import", str(path))
        assert "0 submitted, 0 on credit hold, 0 draft, 2 already imported" in again.out
        assert sorted((o.id, o.version) for o in orders()) == before

    def test_the_same_order_ref_with_other_lines_is_refused(self, crm_cli: Cli, tmp_path: Path) -> None:
        setup_world()
        crm_cli(
            "orders",
            "import",
            str(write(tmp_path / "a.csv", "order_ref,customer_code,sku,quantity\nPO-1,D0001,PMP-1,1\n")),
        )
        changed = crm_cli(
            "orders",
            "import",
            str(write(tmp_path / "b.csv", "order_ref,customer_code,sku,quantity\nPO-1,D0001,PMP-1,3\n")),
        )
        assert changed.code == 1
        assert re.search(r"^line 2: order PO-1 was imported before with other content", changed.err, re.M)
        assert len(orders()) == 1

    def test_draft_only_creates_drafts(self, crm_cli: Cli, tmp_path: Path) -> None:
        setup_world()
        result = crm_cli(
            "orders",
            "import",
            "--draft",
            str(write(tmp_path / "d.csv", "order_ref,customer_code,sku,quantity\nPO-9,D0001,PMP-1,1\n")),
        )
        assert result.code == 0, result.err
        assert [o.status.value for o in orders()] == ["draft"]

    def test_a_missing_column_is_one_line_and_nothing_imported(self, crm_cli: Cli, tmp_path: Path) -> None:
        setup_world()
        result = crm_cli("orders", "import", str(write(tmp_path / "x.csv", "order_ref,sku,quantity\nPO-1,PMP-1,1\n")))
        assert result.code == 1
        assert "customer_code" in result.err and result.err.strip().count("\n") == 0
        assert orders() == []

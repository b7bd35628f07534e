"""`crm reports …` on the embedded default: tables, CSV, JSON and XLSX out of the demo data; check and rebuild."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from crm_domain.services.users import NewUser
from crm_domain.users import Role
from entrypoints.cli.context import OPERATOR, container
from tests.cli.conftest import Result

Cli = Callable[..., Result]
#: The demo data lie in the months before today (the system clock's); a year each side holds them.
WIDE = (
    "--from",
    (date.today() - timedelta(days=366)).isoformat(),
    "--to",
    (date.today() + timedelta(days=366)).isoformat(),
)


@pytest.fixture
def seeded(crm_cli: Cli) -> Cli:
    result = crm_cli("demo", "seed", "--months", "2", "--orders-per-month", "25")
    assert result.code == 0, result.err
    return crm_cli


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


class TestSales:
    def test_csv_rows_add_up_to_the_totals_row(self, seeded: Cli) -> None:
        result = seeded("reports", "sales", *WIDE, "--group-by", "rep", "--format", "csv")

        assert result.code == 0, result.err
        rows = _csv(result.out)
        totals = [r for r in rows if r["key"] == "total"]
        body = [r for r in rows if r["key"] != "total"]
        assert len(totals) == 1 and body
        assert sum(Decimal(r["total"]) for r in body) == Decimal(totals[0]["total"]) > 0
        assert sum(int(r["orders"]) for r in body) == int(totals[0]["orders"])

    def test_every_grouping_gives_the_same_total(self, seeded: Cli) -> None:
        seen = set()
        for group in ("day", "week", "month", "rep", "customer", "territory"):
            result = seeded("reports", "sales", *WIDE, "--group-by", group, "--format", "json")
            assert result.code == 0, result.err
            rows = json.loads(result.out)["rows"]
            seen.add(next(r["total"] for r in rows if r["key"] == "total"))
        assert len(seen) == 1

    def test_a_table_by_default_and_xlsx_into_a_file(self, seeded: Cli, tmp_path: Path) -> None:
        table = seeded("reports", "sales", *WIDE, "--group-by", "month")
        target = tmp_path / "sales.xlsx"
        xlsx = seeded("reports", "sales", *WIDE, "--group-by", "product", "--format", "xlsx", "--output", str(target))

        assert table.code == 0 and "Total" in table.out
        assert xlsx.code == 0, xlsx.err
        sheet = load_workbook(target, read_only=True).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1] == ("key", "label", "currency", "orders", "quantity", "net", "tax", "total")
        assert rows[-1][0] == "total"

    def test_xlsx_without_a_file_is_one_line_and_a_failure(self, seeded: Cli) -> None:
        result = seeded("reports", "sales", "--format", "xlsx")

        assert result.code == 1
        assert result.err.strip().count("\n") == 0 and "--output" in result.err

    def test_an_unknown_grouping_is_a_usage_error(self, crm_cli: Cli) -> None:
        assert crm_cli("reports", "sales", "--group-by", "planet").code == 2


class TestCreditAndStatements:
    def test_exposure_puts_over_limit_first_and_holds_oldest_first(self, seeded: Cli) -> None:
        exposure = _csv(seeded("reports", "credit-exposure", "--format", "csv").out)
        holds = _csv(seeded("reports", "credit-holds", "--format", "csv").out)

        over = [Decimal(r["available"]) < 0 for r in exposure]
        assert exposure and over == sorted(over, reverse=True)
        assert [r["held_at"] for r in holds] == sorted(r["held_at"] for r in holds)

    def test_a_statement_by_customer_code(self, seeded: Cli) -> None:
        code = _csv(seeded("reports", "credit-exposure", "--format", "csv").out)[0]["code"]

        result = seeded("reports", "statement", code, *WIDE, "--format", "csv")

        assert result.code == 0, result.err
        rows = _csv(result.out)
        assert rows[0]["kind"] == "opening" and rows[-1]["kind"] == "closing"
        moved = sum(Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0) for r in rows[1:-1])
        assert Decimal(rows[0]["balance"]) + moved == Decimal(rows[-1]["balance"])

    def test_an_unknown_customer_is_one_line(self, seeded: Cli) -> None:
        result = seeded("reports", "statement", "NO-SUCH-DEALER")
        assert result.code == 1 and "not found" in result.err


class TestAggregates:
    def test_check_agrees_and_rebuild_keeps_it_so(self, seeded: Cli) -> None:
        assert seeded("reports", "check").code == 0
        before = seeded("reports", "sales", *WIDE, "--format", "csv").out

        rebuilt = seeded("reports", "rebuild")

        assert rebuilt.code == 0 and "rebuilt" in rebuilt.out
        assert seeded("reports", "check").code == 0
        assert seeded("reports", "sales", *WIDE, "--format", "csv").out == before

    def test_check_finds_a_roll_up_that_disagrees_and_rebuild_mends_it(self, seeded: Cli, data_dir: Path) -> None:
        conn = sqlite3.connect(data_dir / "crm.db", isolation_level=None)
        try:
            one = "(SELECT day, status, currency FROM sales_days LIMIT 1)"
            conn.execute(f"UPDATE sales_days SET total = total + 1 WHERE (day, status, currency) = {one}")
        finally:
            conn.close()

        found = seeded("reports", "check")

        assert found.code == 1 and "1 roll-up rows differ from the buckets" in found.err
        assert "buckets differ from the orders" not in found.err
        assert seeded("reports", "rebuild").code == 0
        assert seeded("reports", "check").code == 0


class TestDigest:
    def test_preview_and_queue_once_a_day(self, seeded: Cli) -> None:
        crm = container().crm
        new = NewUser(
            mobile="+919876511111", name="Digest Manager", roles=frozenset({Role.SALES_MANAGER}), email="m@example.com"
        )
        manager = crm.users.create(OPERATOR, new)

        preview = seeded("reports", "digest", "--manager", manager.id, "--date", "2026-11-02")
        first = seeded("reports", "digest", "--send", "--date", "2026-11-02")
        again = seeded("reports", "digest", "--send", "--date", "2026-11-02")

        assert preview.code == 0, preview.err
        assert "To: m@example.com" in preview.out and "Daily digest 2026-11-02" in preview.out
        assert first.code == 0 and "queued" in first.out and "queued 0" not in first.out
        assert "queued 0 daily digests" in again.out

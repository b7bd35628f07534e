"""`crm targets import`: targets from CSV or XLSX, good rows kept, bad rows reported by line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

from crm_domain.money import Money
from crm_domain.services.users import NewUser
from crm_domain.users import Role
from entrypoints.cli.context import OPERATOR, container
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def _rep() -> str:
    crm = container().crm
    new = NewUser(mobile="+919876500001", name="Ravi Rep", roles=frozenset({Role.SALES_REP}))
    return crm.users.create(OPERATOR, new).id


def _targets(period: str) -> dict[str, Money]:
    return {t.user_id: t.amount for t in container().crm.performance.targets(OPERATOR, period)}


def test_csv_rows_by_id_and_mobile_with_bad_rows_reported(crm_cli: Cli, tmp_path: Path) -> None:
    rep = _rep()
    path = tmp_path / "targets.csv"
    path.write_text(
        "user,period,amount\n"
        f"{rep},2026-11,150000.00\n"
        "+919876500001,2026-12,175000\n"
        "nobody,2026-11,1.00\n"
        f"{rep},2026-13,1.00\n",
        encoding="utf-8",
    )

    result = crm_cli("targets", "import", str(path))

    assert result.code == 1
    assert "imported 2 targets, 2 failed" in result.out
    assert "line 4" in result.err and "line 5" in result.err
    assert _targets("2026-11") == {rep: Money.of("150000.00", "INR")}
    assert _targets("2026-12") == {rep: Money.of("175000.00", "INR")}


def test_xlsx(crm_cli: Cli, tmp_path: Path) -> None:
    rep = _rep()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["User", "Period", "Amount"])
    sheet.append([rep, "2026-11", 99000])
    path = tmp_path / "targets.xlsx"
    workbook.save(path)

    result = crm_cli("targets", "import", str(path))

    assert result.code == 0, result.err
    assert _targets("2026-11") == {rep: Money.of("99000.00", "INR")}


def test_a_missing_column_is_one_line(crm_cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("user,amount\nx,1\n", encoding="utf-8")

    result = crm_cli("targets", "import", str(path))

    assert result.code == 1 and "missing column(s) period" in result.err

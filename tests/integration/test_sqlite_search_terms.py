"""The SQLite search terms (schema migration 10): rows stored before the migration are found after it, and the
triggers keep the terms of every later write, whoever writes (crm_domain/search.py has the rule)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.sqlite.schema import MIGRATIONS, migrate
from crm_domain.search import TextQuery, words_of

SEARCH_MIGRATION = next(i for i, m in enumerate(MIGRATIONS) if any("CREATE TABLE search_terms" in s for s in m))
NAME = 'Agro-Tech (Jaipur) Pvt. Ltd "Sri" O\'Neil & Sons_2\tx'


def _terms(conn: sqlite3.Connection, key: str) -> set[str]:
    return {row[0] for row in conn.execute("SELECT term FROM search_terms WHERE key = ?", (key,))}


def test_rows_from_before_the_migration_get_their_terms_and_writes_keep_them(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "crm.db", isolation_level=None)
    for statements in MIGRATIONS[:SEARCH_MIGRATION]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SEARCH_MIGRATION}")
    conn.execute(
        "INSERT INTO customers VALUES ('C1', 'D-0001', ?, '+919812345678', 'N', 'INR', 'sap', NULL, NULL, 1, 0, 0)",
        (NAME,),
    )
    conn.execute(
        "INSERT INTO products (sku, name, uom, unit_price, currency, tax_rate, active, erp_material_id, "
        "min_order_qty, updated_at) VALUES ('PMP-1', 'Pump 1 HP', 'EA', 1, 'INR', '0', 1, NULL, '1', 0)"
    )

    assert migrate(conn) == len(MIGRATIONS) - SEARCH_MIGRATION

    # the same words as the domain's rule cuts the name into
    assert _terms(conn, "C1") == {"c:d-0001", "m:919812345678", "m:9812345678"} | {f"w:{w}" for w in words_of(NAME)}
    assert _terms(conn, "PMP-1") == {"c:pmp-1", "w:pump", "w:1", "w:hp"}
    conn.execute("UPDATE customers SET name = 'Kaveri Irrigation', mobile = '+14155550100' WHERE id = 'C1'")
    assert _terms(conn, "C1") == {"c:d-0001", "m:14155550100", "m:4155550100", "w:kaveri", "w:irrigation"}
    conn.execute("UPDATE customers SET territory = 'West' WHERE id = 'C1'")  # not a searched column
    assert len(_terms(conn, "C1")) == 5
    conn.execute("DELETE FROM customers WHERE id = 'C1'")
    conn.execute("DELETE FROM products")
    assert conn.execute("SELECT count(*) FROM search_terms").fetchone() == (0,)


def test_a_name_that_is_not_json_safe_still_saves(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "crm.db", isolation_level=None)
    migrate(conn)
    conn.execute(
        "INSERT INTO customers VALUES ('C2', 'D2', 'bad' || char(1) || 'name', '+919100000002', 'N', 'INR', 'sap', "
        "NULL, NULL, 1, 0, 0)"
    )
    assert _terms(conn, "C2") == {"c:d2", "m:919100000002", "m:9100000002"}  # no words, but the row is there
    assert TextQuery.parse("D2").matches_customer("D2", "bad\x01name", "+919100000002")

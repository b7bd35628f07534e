"""The SQLite schema as numbered migrations; `PRAGMA user_version` records how many have been applied.

`migrate` applies the missing ones in one `BEGIN IMMEDIATE` transaction, so several processes opening a fresh
file at once apply each migration exactly once. Append new migrations; never edit an applied one.

Releases roll (docs/operations.md, "Releases"): for a while the previous release's processes run on the schema
the new release migrated to. So migrations expand — new tables, indexes, triggers, columns that are nullable or
have a default, data copied forward — and code runs on a newer schema than its own. Removing or changing what
an older release uses (contract) waits until no process of that release runs, and then sets `CONTRACTED_AT` to
its own number: the store records it, and code older than that refuses to start instead of failing mid-request.
"""

from __future__ import annotations

import sqlite3
from typing import Final

_BUMP = "UPDATE table_versions SET version = version + 1 WHERE name = '{}';"

#: The characters crm_domain.search cuts names at, each turned into a space in SQL (`'` doubled for SQL).
_SEPARATORS: Final = [
    "-",
    ".",
    ",",
    "/",
    "(",
    ")",
    "&",
    "''",
    "_",
    "' || char(9) || '",
    "' || char(10) || '",
    "' || char(13) || '",
]


def _words_json(name: str) -> str:
    """SQL for the JSON array of the folded words of the `name` expression (empty words are filtered later); a
    name that does not make valid JSON (another control character) gives no words rather than a failed write."""
    folded = f"replace(replace(lower({name}), '\\', '\\\\'), '\"', '\\\"')"
    for separator in _SEPARATORS:
        folded = f"replace({folded}, '{separator}', ' ')"
    array = f"'[\"' || replace({folded}, ' ', '\",\"') || '\"]'"
    return f"(CASE WHEN json_valid({array}) THEN {array} ELSE '[]' END)"


def _customer_terms(row: str, source: str = "") -> str:
    """`SELECT 'customer', term, id` rows of a customer (`row`: NEW in a trigger, or an alias of `source`, the
    table read): its folded code, the two forms of its mobile's digits and its name's words (crm_domain/search.py)."""
    src = f" FROM {source}" if source else ""
    words = f" FROM {source + ', ' if source else ''}json_each({_words_json(row + '.name')}) AS w WHERE w.value <> ''"
    return (
        f"SELECT 'customer', 'c:' || lower({row}.code), {row}.id{src} "
        f"UNION SELECT 'customer', 'm:' || ltrim({row}.mobile, '+'), {row}.id{src} "
        f"UNION SELECT 'customer', 'm:' || substr(ltrim({row}.mobile, '+'), -10), {row}.id{src} "
        f"UNION SELECT 'customer', 'w:' || w.value, {row}.id{words}"
    )


def _product_terms(row: str, source: str = "") -> str:
    src = f" FROM {source}" if source else ""
    words = f" FROM {source + ', ' if source else ''}json_each({_words_json(row + '.name')}) AS w WHERE w.value <> ''"
    return (
        f"SELECT 'product', 'c:' || lower({row}.sku), {row}.sku{src} "
        f"UNION SELECT 'product', 'w:' || w.value, {row}.sku{words}"
    )


_FIGURES = ("orders", "quantity", "net", "tax", "total")


def roll_up_statements(table: str, keys: tuple[str, ...], when: str, period: str = "month") -> list[str]:
    """A roll-up of the sales buckets that meet `when` (on `NEW`) by `period` ("month" or "day") and `keys`: its
    table, the triggers that keep it with every insert and update of a bucket, and its first fill from the
    buckets. Every name comes from this module's migrations, never from input."""
    of_new, of_row = ("substr(NEW.day, 1, 7)", "substr(day, 1, 7)") if period == "month" else ("NEW.day", "day")
    columns = ", ".join((period, *keys, *_FIGURES))
    key_list = ", ".join((period, *keys))
    added = ", ".join(f"{f} = {f} + excluded.{f}" for f in _FIGURES)
    moved = ", ".join(f"{f} = {f} + NEW.{f} - OLD.{f}" for f in _FIGURES)
    same = " AND ".join([f"{period} = {of_new}", *(f"{k} = NEW.{k}" for k in keys)])
    new_values = ", ".join((of_new, *(f"NEW.{k}" for k in keys), *(f"NEW.{f}" for f in _FIGURES)))
    source = when.replace("NEW.", "")
    grouped = ", ".join((of_row, *keys))
    sums = ", ".join(f"sum({f})" for f in _FIGURES)
    return [
        f"CREATE TABLE {table} ("
        + ", ".join([*(f"{c} TEXT NOT NULL" for c in (period, *keys)), *(f"{f} INTEGER NOT NULL" for f in _FIGURES)])
        + f", PRIMARY KEY ({key_list})) WITHOUT ROWID",
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON sales_buckets WHEN {when} BEGIN "  # noqa: S608
        f"INSERT INTO {table} ({columns}) VALUES ({new_values}) ON CONFLICT ({key_list}) DO UPDATE SET {added}; END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE ON sales_buckets WHEN {when} BEGIN "  # noqa: S608
        f"UPDATE {table} SET {moved} WHERE {same}; END",
        f"INSERT INTO {table} ({columns}) SELECT {grouped}, {sums} "  # noqa: S608
        f"FROM sales_buckets WHERE {source} GROUP BY {grouped}",
    ]


def search_triggers() -> list[str]:
    add_customer = f"INSERT OR IGNORE INTO search_terms (entity, term, key) {_customer_terms('NEW')};"
    add_product = f"INSERT OR IGNORE INTO search_terms (entity, term, key) {_product_terms('NEW')};"
    forget_customer = "DELETE FROM search_terms WHERE entity = 'customer' AND key = OLD.id;"
    forget_product = "DELETE FROM search_terms WHERE entity = 'product' AND key = OLD.sku;"
    return [
        f"CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN {add_customer} END",
        f"CREATE TRIGGER customers_search_update AFTER UPDATE OF code, name, mobile ON customers "
        f"BEGIN {forget_customer} {add_customer} END",
        f"CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN {forget_customer} END",
        f"CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN {add_product} END",
        f"CREATE TRIGGER products_search_update AFTER UPDATE OF sku, name ON products "
        f"BEGIN {forget_product} {add_product} END",
        f"CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN {forget_product} END",
    ]


MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: every store port of crm_domain.ports
    (
        """CREATE TABLE users (
            id TEXT PRIMARY KEY,
            mobile TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            roles TEXT NOT NULL,
            email TEXT,
            manager_id TEXT,
            territory TEXT,
            customer_id TEXT,
            active INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        "CREATE INDEX users_by_manager ON users (manager_id)",
        "CREATE INDEX users_by_name ON users (name, id)",
        """CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            mobile TEXT NOT NULL,
            territory TEXT NOT NULL,
            currency TEXT NOT NULL,
            erp_system TEXT NOT NULL,
            erp_customer_id TEXT,
            assigned_rep_id TEXT,
            active INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        "CREATE INDEX customers_by_rep ON customers (assigned_rep_id, code)",
        """CREATE TABLE credit_accounts (
            customer_id TEXT PRIMARY KEY,
            currency TEXT NOT NULL,
            credit_limit INTEGER NOT NULL,
            tolerance_pct TEXT NOT NULL,
            temp_limit INTEGER,
            temp_limit_until TEXT,
            overdue_block_days INTEGER,
            blocked INTEGER NOT NULL,
            block_reason TEXT,
            receivables INTEGER NOT NULL,
            overdue_days INTEGER NOT NULL,
            version INTEGER NOT NULL,
            updated_at INTEGER
        )""",
        """CREATE TABLE credit_reservations (
            customer_id TEXT NOT NULL REFERENCES credit_accounts (customer_id) ON DELETE CASCADE,
            order_id TEXT NOT NULL,
            amount INTEGER NOT NULL,
            stage TEXT NOT NULL,
            by_release INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, order_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            uom TEXT NOT NULL,
            unit_price INTEGER NOT NULL,
            currency TEXT NOT NULL,
            tax_rate TEXT NOT NULL,
            active INTEGER NOT NULL,
            erp_material_id TEXT,
            min_order_qty TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            customer_id TEXT NOT NULL,
            status TEXT NOT NULL,
            rep_id TEXT,
            created_at INTEGER NOT NULL,
            held_at INTEGER,
            version INTEGER NOT NULL,
            doc TEXT NOT NULL
        )""",
        "CREATE INDEX orders_by_customer_status ON orders (customer_id, status)",
        "CREATE INDEX orders_by_status_created ON orders (status, created_at)",
        "CREATE INDEX orders_by_rep_created ON orders (rep_id, created_at)",
        "CREATE INDEX orders_by_created ON orders (created_at, id)",
        "CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
        """CREATE TABLE targets (
            user_id TEXT NOT NULL,
            period TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            set_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (user_id, period)
        ) WITHOUT ROWID""",
        "CREATE INDEX targets_by_period ON targets (period, user_id)",
        """CREATE TABLE performance (
            user_id TEXT NOT NULL,
            period TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount INTEGER NOT NULL,
            orders INTEGER NOT NULL,
            PRIMARY KEY (user_id, period, currency)
        ) WITHOUT ROWID""",
        "CREATE INDEX performance_by_period ON performance (period, user_id)",
        """CREATE TABLE outbox (
            id TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            delivered_at INTEGER
        )""",
        "CREATE INDEX outbox_by_due ON outbox (status, next_attempt_at, id)",
        "CREATE INDEX outbox_by_status_age ON outbox (status, occurred_at, id)",
        """CREATE TABLE idempotency (
            actor_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            result_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (actor_id, operation, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX idempotency_by_expiry ON idempotency (expires_at)",
        """CREATE TABLE audit (
            id TEXT PRIMARY KEY,
            at INTEGER NOT NULL,
            actor_id TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            details TEXT NOT NULL
        )""",
        "CREATE INDEX audit_by_entity ON audit (entity, entity_id, at, id)",
        """CREATE TABLE limit_requests (
            id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            current_limit INTEGER NOT NULL,
            current_currency TEXT NOT NULL,
            new_limit INTEGER NOT NULL,
            new_currency TEXT NOT NULL,
            reason TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            decided_by TEXT,
            decided_at INTEGER,
            decision_note TEXT
        )""",
        "CREATE INDEX limit_requests_by_newest ON limit_requests (requested_at, id)",
        "CREATE INDEX limit_requests_by_status ON limit_requests (status, requested_at, id)",
        "CREATE INDEX limit_requests_by_customer ON limit_requests (customer_id)",
        """CREATE TABLE limit_history (
            id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            old TEXT,
            new TEXT,
            changed_by TEXT NOT NULL,
            at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            request_id TEXT
        )""",
        "CREATE INDEX limit_history_by_customer ON limit_history (customer_id, at, id)",
    ),
    # 2: outbox messages remember which handlers have delivered them, so a retry skips those
    ("ALTER TABLE outbox ADD COLUMN done TEXT NOT NULL DEFAULT '[]'",),
    # 3: the embedded sign-in stores (adapters/sqlite/runtime.py): OTP challenges, sessions, rate-limit hits.
    # IF NOT EXISTS: databases from before this migration created them on first use.
    (
        """CREATE TABLE IF NOT EXISTS rt_otp (
            mobile TEXT PRIMARY KEY, request_id TEXT NOT NULL, code_hash TEXT NOT NULL,
            issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE IF NOT EXISTS rt_sessions (
            id TEXT PRIMARY KEY, user_id TEXT NOT NULL, refresh_jti TEXT NOT NULL,
            created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER
        )""",
        "CREATE INDEX IF NOT EXISTS rt_sessions_user ON rt_sessions (user_id) WHERE revoked_at IS NULL",
        "CREATE TABLE IF NOT EXISTS rt_hits (key TEXT NOT NULL, at INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS rt_hits_key_at ON rt_hits (key, at)",
    ),
    # 4: running totals of each credit account's reservations by stage, so that reading an account for a
    # submit reads the order's own reservation only, not every open one of the customer
    (
        "ALTER TABLE credit_accounts ADD COLUMN open_total INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE credit_accounts ADD COLUMN dispatched_total INTEGER NOT NULL DEFAULT 0",
        """UPDATE credit_accounts SET
            open_total = (
                SELECT coalesce(sum(amount), 0) FROM credit_reservations AS r
                WHERE r.customer_id = credit_accounts.customer_id AND r.stage = 'open'
            ),
            dispatched_total = (
                SELECT coalesce(sum(amount), 0) FROM credit_reservations AS r
                WHERE r.customer_id = credit_accounts.customer_id AND r.stage = 'dispatched'
            )""",
    ),
    # 5: a version per rarely changing table, bumped by every change to it in the same transaction, so each
    # process may keep decoded rows for as long as the version stays (adapters/sqlite/read_cache.py)
    (
        "CREATE TABLE table_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID",
        "INSERT INTO table_versions (name, version) VALUES ('products', 0), ('customers', 0)",
        f"CREATE TRIGGER products_insert_version AFTER INSERT ON products BEGIN {_BUMP.format('products')} END",
        f"CREATE TRIGGER products_update_version AFTER UPDATE ON products BEGIN {_BUMP.format('products')} END",
        f"CREATE TRIGGER products_delete_version AFTER DELETE ON products BEGIN {_BUMP.format('products')} END",
        f"CREATE TRIGGER customers_insert_version AFTER INSERT ON customers BEGIN {_BUMP.format('customers')} END",
        f"CREATE TRIGGER customers_update_version AFTER UPDATE ON customers BEGIN {_BUMP.format('customers')} END",
        f"CREATE TRIGGER customers_delete_version AFTER DELETE ON customers BEGIN {_BUMP.format('customers')} END",
    ),
    # 6: the ERP's own time of the balance last applied, so an older (late or replayed) balance is ignored
    ("ALTER TABLE credit_accounts ADD COLUMN balance_as_of INTEGER",),
    # 7: credit-term change requests of every kind (SPEC §2.3 credit governance); the requests stored before are
    # `limit` requests
    (
        "ALTER TABLE limit_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'limit'",
        "ALTER TABLE limit_requests ADD COLUMN valid_until TEXT",
        "ALTER TABLE limit_requests ADD COLUMN tolerance_pct TEXT",
        "ALTER TABLE limit_requests ADD COLUMN overdue_block_days INTEGER",
    ),
    # 8: the call log (SPEC §2.8)
    (
        """CREATE TABLE interactions (
            id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            agent_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            direction TEXT NOT NULL,
            outcome TEXT NOT NULL,
            note TEXT NOT NULL,
            order_id TEXT
        )""",
        "CREATE INDEX interactions_by_customer ON interactions (customer_id, at DESC, id DESC)",
    ),
    # 9: search terms of customers and products (crm_domain/search.py: `q` on the lists and the call-center
    # portal's caller lookup), kept by triggers so every write path keeps them; a prefix is a range scan of the
    # primary key. Existing rows get theirs here.
    (
        """CREATE TABLE search_terms (
            entity TEXT NOT NULL,
            term TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (entity, term, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX search_terms_by_key ON search_terms (entity, key)",
        "CREATE INDEX customers_by_updated ON customers (updated_at)",
        "CREATE INDEX users_by_updated ON users (updated_at)",
        "CREATE INDEX orders_by_updated ON orders (json_extract(doc, '$.updated_at'))",
        "CREATE INDEX products_by_updated ON products (updated_at)",
        *search_triggers(),
        f"INSERT OR IGNORE INTO search_terms (entity, term, key) {_customer_terms('c', 'customers AS c')}",
        f"INSERT OR IGNORE INTO search_terms (entity, term, key) {_product_terms('p', 'products AS p')}",
    ),
    # 10: the reports' aggregates (SPEC §2.8; adapters/sqlite/reports.py): daily sales buckets per status,
    # customer, rep and SKU ('' for the whole order), moved in the same transaction as the orders; the customers'
    # ledger as known from the ERP (invoices, payments) for statements; a version of the buckets for the cache.
    # Orders stored before this migration are counted by `crm reports rebuild`.
    (
        """CREATE TABLE sales_buckets (
            sku TEXT NOT NULL,
            day TEXT NOT NULL,
            status TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            rep_id TEXT NOT NULL,
            currency TEXT NOT NULL,
            orders INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            net INTEGER NOT NULL,
            tax INTEGER NOT NULL,
            total INTEGER NOT NULL,
            PRIMARY KEY (sku, day, status, customer_id, rep_id, currency)
        ) WITHOUT ROWID""",
        "CREATE INDEX sales_by_customer ON sales_buckets (sku, customer_id, day)",
        "CREATE INDEX sales_by_rep ON sales_buckets (sku, rep_id, day)",
        """CREATE TABLE ledger (
            id TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL
        )""",
        "CREATE INDEX ledger_by_customer ON ledger (customer_id, at, id)",
        "CREATE TABLE report_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID",
        "INSERT INTO report_versions (name, version) VALUES ('sales', 0)",
    ),
    # 11: `updated_since` on the lists of targets and of credit-limit requests (SPEC §4); a request's
    # `updated_at` is its decision's time, or its own while open (adapters/sqlite/credit.py, the same expression).
    # The call log needs none: `at` is in interactions_by_customer.
    (
        "CREATE INDEX targets_by_period_updated ON targets (period, updated_at)",
        "CREATE INDEX limit_requests_by_updated ON limit_requests (COALESCE(decided_at, requested_at))",
    ),
    # 12: roll-ups of the sales buckets (adapters/sqlite/reports.py, decision 0022), kept by triggers in the same
    # transaction as the buckets: the per-line buckets by month without customer and rep (a year by product
    # reads about months x statuses x SKUs rows instead of one per order line), the whole-order buckets by month
    # without the day (reports by customer, territory or rep read a month per customer instead of a day per
    # customer) and by day without customer and rep (days, weeks and months for everyone). Bucket rows are only
    # ever inserted or updated (`replace_buckets` empties every roll-up), so insert and update triggers keep them
    # exact.
    (
        *roll_up_statements("sales_sku_months", ("status", "sku", "currency"), "NEW.sku > ''"),
        *roll_up_statements("sales_customer_months", ("customer_id", "status", "rep_id", "currency"), "NEW.sku = ''"),
        *roll_up_statements("sales_days", ("status", "currency"), "NEW.sku = ''", period="day"),
        # the credit-holds report in its order, without sorting the held orders' documents; only held orders
        "CREATE INDEX orders_on_hold ON orders (coalesce(held_at, created_at), number) WHERE status = 'on_credit_hold'",
    ),
)

SCHEMA_VERSION: Final = len(MIGRATIONS)
#: The last migration that removed or changed something earlier code used; code whose SCHEMA_VERSION is lower
#: must not run on this schema. 0: every migration so far only expanded.
CONTRACTED_AT: Final = 0
_CONTRACTED_KEY: Final = "schema:contracted-at"  # its row in table_versions (from migration 5 on)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to `SCHEMA_VERSION`; returns how many migrations were applied.

    `conn` must be in autocommit mode (isolation_level=None) and outside a transaction.
    """
    current = schema_version(conn)
    if current == SCHEMA_VERSION:
        return 0
    if current > SCHEMA_VERSION:  # a newer release migrated: run on it unless it contracted what we use
        _check_newer(conn, current)
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)  # again, under the write lock: another process may have migrated
        if current < SCHEMA_VERSION:
            for statements in MIGRATIONS[current:]:
                for statement in statements:
                    conn.execute(statement)
            if CONTRACTED_AT:
                conn.execute(
                    "INSERT OR REPLACE INTO table_versions (name, version) VALUES (?, ?)",
                    (_CONTRACTED_KEY, CONTRACTED_AT),
                )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if current > SCHEMA_VERSION:
        _check_newer(conn, current)
        return 0
    return SCHEMA_VERSION - current


def contracted_at(conn: sqlite3.Connection) -> int:
    """The `CONTRACTED_AT` of the newest release that migrated this store (0 when none contracted)."""
    try:
        row = conn.execute("SELECT version FROM table_versions WHERE name = ?", (_CONTRACTED_KEY,)).fetchone()
    except sqlite3.OperationalError:  # no table_versions: not a schema any release of ours wrote
        return schema_version(conn)
    return 0 if row is None else int(row[0])


def _check_newer(conn: sqlite3.Connection, current: int) -> None:
    floor = contracted_at(conn)
    if floor > SCHEMA_VERSION:
        raise RuntimeError(
            f"the database schema is version {current} and no longer runs code older than version {floor}; "
            f"this build is {SCHEMA_VERSION}: upgrade crm"
        )

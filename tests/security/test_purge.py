"""Issue 12, finding 9: tables that anonymous callers fill grew for ever (expired codes, rate-limit hits, ended
sessions). SPEC §5: they are purged — by the worker's sweep on the embedded store, by key expiry on Redis."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from redis import Redis

from adapters.system import FixedClock
from crm_domain.services.sweeps import run_sweeps
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_worker_sweep_purges_codes_sessions_and_rate_rows_of_the_embedded_store(tmp_path: Path) -> None:
    clock = FixedClock()
    c = bootstrap(Settings(data_dir=tmp_path, jwt_secret="x" * 48), clock=clock)  # type: ignore[arg-type]
    admin = c.crm.users.create_admin("+919000000001", "Asha Admin")
    sms = tmp_path / "sms.jsonl"
    for i in range(20):  # an anonymous script asking codes for numbers nobody has
        c.auth.request_otp(f"+9198000{i:05d}", f"192.0.2.{i}")
    c.auth.request_otp(admin.mobile, "192.0.2.200")
    code = sms.read_text().splitlines()[-1].split('"text": "')[1][:6]
    signed = c.auth.verify_otp(admin.mobile, code, "192.0.2.200")
    c.auth.logout(signed.session.id)
    c.api_limits.admit(user_id=None, address="192.0.2.77")
    db = tmp_path / "crm.db"
    assert rows(db, "rt_otp") == 20
    assert rows(db, "rt_hits") > 40
    assert rows(db, "rt_sessions") == 1

    clock.advance(timedelta(days=1, seconds=1))
    report = run_sweeps(c.crm.ctx, c.auth)

    assert (report.runtime_purged.otps, report.runtime_purged.sessions) == (20, 1)
    assert report.runtime_purged.rate_records > 40
    assert rows(db, "rt_otp") == rows(db, "rt_sessions") == rows(db, "rt_hits") == 0
    assert rows(tmp_path / "crm.db-rates", "rates") == 0
    assert run_sweeps(c.crm.ctx, c.auth).runtime_purged.total == 0


def test_every_redis_key_of_codes_sessions_and_limits_expires(tmp_path: Path, redis_url: str) -> None:
    Redis.from_url(redis_url).flushall()
    c = bootstrap(Settings(database_url="memory://", redis_url=redis_url, data_dir=tmp_path, jwt_secret="x" * 48))  # type: ignore[arg-type]
    admin = c.crm.users.create_admin("+919000000001", "Asha Admin")
    for i in range(5):
        c.auth.request_otp(f"+9198000{i:05d}", "192.0.2.1")
    c.auth.request_otp(admin.mobile, "192.0.2.2")
    code = (tmp_path / "sms.jsonl").read_text().splitlines()[-1].split('"text": "')[1][:6]
    signed = c.auth.verify_otp(admin.mobile, code, "192.0.2.2")
    c.auth.logout(signed.session.id)
    c.api_limits.admit(user_id=None, address="192.0.2.77")
    c.api_limits.admit(user_id=admin.id, address="192.0.2.77")

    client = Redis.from_url(redis_url)
    keys = list(client.scan_iter("crm:*"))
    assert len(keys) > 10
    ttls = {key: client.pttl(key) for key in keys}
    assert all(ttl > 0 for ttl in ttls.values()), ttls
    session_key = next(k for k in keys if k.startswith(b"crm:session:"))
    assert ttls[session_key] <= 3600 * 1000  # an ended session goes within the hour, not at its 30-day expiry

"""Issue 12, finding 4: a burned code was replaced at once (three real SMS to one dealer in 0.4 s), anyone could
lock a user out for an hour, and there was no daily cap. SPEC §5: after 5 wrong codes the code is burned and the
resend gap still applies; at most 5 codes per mobile an hour and 10 a day; a lock-out never lasts over an hour
(the daily cap is the SMS budget) and `crm users unlock` lifts it. On every OTP store: memory, SQLite, Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.memory import MemoryStore
from adapters.memory.runtime import MemoryOtpStore, MemoryRateLimiter, MemorySessionStore
from adapters.phones import PhonenumbersNormaliser
from adapters.redis import RedisConnection, redis_runtime
from adapters.sqlite import SqliteStore
from adapters.sqlite.runtime import sqlite_runtime
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.errors import TooManyRequests, Unauthenticated
from crm_domain.services.auth import AuthService
from crm_domain.services.context import ServiceContext

MOBILE = "+919812345678"


class Inbox:
    """The SMS gateway of these tests: keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))

    def last_code(self) -> str:
        return self.sent[-1][1][:6]


class Door:
    def __init__(self, auth: AuthService, clock: FixedClock, inbox: Inbox) -> None:
        self.auth = auth
        self.clock = clock
        self.inbox = inbox

    def request(self, client: str = "192.0.2.1") -> None:
        self.auth.request_otp(MOBILE, client)

    def wait(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    def refused(self, client: str = "192.0.2.1") -> int:
        with pytest.raises(TooManyRequests) as refused:
            self.request(client)
        return refused.value.retry_after


@pytest.fixture(params=["memory", "sqlite", "redis"])
def door(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Door]:
    clock = FixedClock()
    ids = SequentialIds()
    ctx = ServiceContext(uow=MemoryStore(ids=ids), clock=clock, ids=ids, mobiles=PhonenumbersNormaliser())
    Crm(ctx).users.create_admin(MOBILE, "Devi Dealer")
    connection = None
    stores: tuple[Any, Any, Any]
    if request.param == "memory":
        stores = MemoryOtpStore(clock), MemorySessionStore(), MemoryRateLimiter(clock)
    elif request.param == "sqlite":
        stores = sqlite_runtime(SqliteStore(tmp_path / "crm.db", clock=clock), clock)
    else:
        connection = RedisConnection(request.getfixturevalue("redis_url"))
        stores = redis_runtime(connection, clock, prefix=request.getfixturevalue("redis_prefix"))
    otps, sessions, limiter = stores
    inbox = Inbox()
    auth = AuthService(ctx, otps=otps, sessions=sessions, limiter=limiter, sms=inbox, otp_key=b"k" * 32)
    yield Door(auth, clock, inbox)
    if connection is not None:
        connection.close()


def test_a_burned_code_is_not_replaced_before_the_resend_gap(door: Door) -> None:
    door.request()
    good = door.inbox.last_code()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            door.auth.verify_otp(MOBILE, wrong, "192.0.2.1")
    with pytest.raises(Unauthenticated, match="too many wrong codes"):
        door.auth.verify_otp(MOBILE, good, "192.0.2.1")  # burned: even the right code is refused now

    assert door.refused() == 30  # the resend gap still applies: no new SMS at once
    assert len(door.inbox.sent) == 1
    door.wait(30)
    door.request()
    assert len(door.inbox.sent) == 2
    assert door.auth.verify_otp(MOBILE, door.inbox.last_code(), "192.0.2.1").user.mobile == MOBILE


def test_at_most_five_codes_an_hour_and_the_lock_out_lasts_at_most_an_hour(door: Door) -> None:
    for _ in range(5):
        door.request()
        door.wait(31)
    wait = door.refused()
    assert 0 < wait <= 3600
    door.wait(wait)
    door.request()
    assert len(door.inbox.sent) == 6


def test_at_most_ten_codes_a_day(door: Door) -> None:
    for _hour in range(2):
        for _ in range(5):
            door.request()
            door.wait(31)
        door.wait(3600)
    assert len(door.inbox.sent) == 10
    assert door.refused() > 3600  # the daily budget: until the first code of the day is 24 h old
    door.wait(24 * 3600)
    door.request()
    assert len(door.inbox.sent) == 11


def test_unlock_lifts_the_lock_out_at_once(door: Door) -> None:
    for _ in range(5):
        door.request()
        door.wait(31)
    door.refused()
    door.auth.unlock("98123 45678")  # any form of the number
    door.request()
    assert len(door.inbox.sent) == 6
    door.auth.unlock(MOBILE)  # also forgets the code just sent: no resend gap after an unlock
    door.request()
    assert door.auth.verify_otp(MOBILE, door.inbox.last_code(), "192.0.2.1").user.mobile == MOBILE

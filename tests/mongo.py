"""MongoDB for tests: the server at `CRM_TEST_MONGODB_URI` when set (a replica set: the store refuses a
standalone server), else mongomock (in process) through a session shim. Test ids and the report header say
which (`mongo-uri` / `mongo-mongomock`). Each user gets a fresh database, dropped after.

mongomock has no sessions or transactions and fails `hello`. The shim (`ShimSession`, installed on mongomock
when this module is imported) lets the store take its one production path: `start_session()` gives a shim
session whose `with_transaction` runs the transaction body once with that session, after checking the
transaction options (write concern majority with journal, read concern snapshot, read preference primary);
every write made while a transaction runs must carry its session and every operation that carries a session
must run inside its transaction (either slip fails the test), and a body that raises has its writes undone.
**It checks the flow, not isolation**: other threads see a transaction's writes as they happen, and nothing
detects write conflicts between transactions. Isolation is MongoDB's job, checked by running the same tests
against a real replica set (docs/operations.md).

mongomock has no `$$NOW` either (the server's time, which the outbox lease is measured by). The shim gives
each database a server clock: the clock passed to `fresh_database` (the fixtures pass the store's clock, a
`FixedClock`), else this machine's time. Before a filter, update pipeline or aggregation reaches mongomock,
`$$NOW` becomes that clock's time (to the millisecond, as a BSON date) and `{"$add": [<date>, <ms>…]}` a date,
which mongomock cannot add. So **in tests on mongomock "the server's clock" is that clock**: a test moves
server time with `pass_server_time`, which on a real server (where `$$NOW` is the server's own) waits instead.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import MongoClient, ReadPreference
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from adapters.system import FixedClock
from crm_domain.ports import Clock

URI = os.environ.get("CRM_TEST_MONGODB_URI") or None
MODE = "uri" if URI else "mongomock"
ID = f"mongo-{MODE}"

T = TypeVar("T")


def describe() -> str:
    """One line for the pytest report header."""
    if URI is None:
        return (
            "mongo: mongomock (in process) through a session shim that runs each transaction body with its session"
            " — it checks the transaction flow, not isolation; set CRM_TEST_MONGODB_URI to a replica set to test"
            " MongoDB's transactions"
        )
    return "mongo: the server at CRM_TEST_MONGODB_URI (real transactions)"


def client() -> MongoClient[dict[str, Any]]:
    if URI is not None:
        return MongoClient(URI, tz_aware=True, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000)
    import mongomock
    import mongomock.gridfs

    mongomock.gridfs.enable_gridfs_integration()
    mock = mongomock.MongoClient(tz_aware=True)
    # pymongo's GridFSBucket reads `client.options.timeout`, which mongomock lacks (it would be a database).
    mock.options = types.SimpleNamespace(timeout=None)
    return mock  # type: ignore[no-any-return]


@contextmanager
def fresh_database(server_clock: Clock | None = None) -> Iterator[tuple[MongoClient[dict[str, Any]], str]]:
    """A client and the name of a database no other test uses; the database is dropped afterwards. On
    mongomock, `server_clock` is the server's clock for that database (what `$$NOW` reads; default: this
    machine's time); a real server keeps its own."""
    mongo = client()
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    if server_clock is not None:
        _SERVER_CLOCKS[name] = server_clock
    try:
        yield mongo, name
    finally:
        _SERVER_CLOCKS.pop(name, None)
        mongo.drop_database(name)
        mongo.close()


def pass_server_time(clock: FixedClock, delta: timedelta) -> None:
    """Let `delta` pass on the server's clock: on mongomock `clock` (a `FixedClock`, the one given to
    `fresh_database`) moves on; a real server's own clock is waited for (keep `delta` short)."""
    clock.advance(delta)
    if URI is not None:
        time.sleep(delta.total_seconds())


# --- the server's time on mongomock (`$$NOW`) ------------------------------------------------------------------

#: The server's clock of each database on mongomock (see `fresh_database`).
_SERVER_CLOCKS: dict[str, Clock] = {}


def _server_now(collection: Any) -> datetime:
    clock = _SERVER_CLOCKS.get(collection.database.name)
    now = clock.now() if clock is not None else datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # a BSON date holds milliseconds


def _uses_now(value: Any) -> bool:
    if isinstance(value, str):
        return value == "$$NOW"
    if isinstance(value, dict):
        return any(_uses_now(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_uses_now(v) for v in value)
    return False


def _at(value: Any, now: datetime) -> Any:
    """`value` with `$$NOW` as `now` and `$add`s of a date and milliseconds folded into dates."""
    if isinstance(value, str):
        return now if value == "$$NOW" else value
    if isinstance(value, list | tuple):
        return [_at(v, now) for v in value]
    if not isinstance(value, dict):
        return value
    done = {key: _at(v, now) for key, v in value.items()}
    terms = done.get("$add")
    if len(done) == 1 and isinstance(terms, list) and any(isinstance(t, datetime) for t in terms):
        (date,) = [t for t in terms if isinstance(t, datetime)]
        millis = [t for t in terms if not isinstance(t, datetime)]
        assert all(isinstance(t, int | float) for t in millis), f"the shim adds only milliseconds to $$NOW: {terms}"
        return date + timedelta(milliseconds=sum(millis))
    return done


def _at_server_time(collection: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The filter and update (or pipeline) of a call, at the server's time; `kwargs` changed in place."""
    if not _uses_now([args[:2], kwargs.get("filter"), kwargs.get("update"), kwargs.get("pipeline")]):
        return args
    now = _server_now(collection)
    for name in ("filter", "update", "pipeline"):
        if name in kwargs:
            kwargs[name] = _at(kwargs[name], now)
    return tuple(_at(arg, now) if i < 2 else arg for i, arg in enumerate(args))


# --- the session shim (mongomock only) --------------------------------------------------------------------------


class ShimStats:
    """What the shim saw, for tests that assert the transaction path ran."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.committed = 0
        self.aborted = 0
        self.writes_in_transactions = 0


STATS = ShimStats()
#: Options the shim accepts (what the store passes), for tests that drive the shim directly.
TRANSACTION_CHECKED_OPTIONS: dict[str, Any] = {
    "read_concern": ReadConcern("snapshot"),
    "write_concern": WriteConcern("majority", j=True),
    "read_preference": ReadPreference.PRIMARY,
}
#: The shim transaction running in this thread, if any: a write without its session meanwhile fails the test.
_RUNNING = threading.local()


class ShimSession:
    """A stand-in for `pymongo.client_session.ClientSession` on mongomock: checks the flow, not isolation."""

    def __init__(self) -> None:
        self.in_transaction = False
        self._undo: list[Callable[[], object]] = []

    def __enter__(self) -> ShimSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end_session()

    def end_session(self) -> None:
        assert not self.in_transaction, "a session ended inside its transaction"

    def with_transaction(
        self,
        callback: Callable[[ShimSession], T],
        read_concern: Any = None,
        write_concern: Any = None,
        read_preference: Any = None,
        max_commit_time_ms: int | None = None,
    ) -> T:
        assert read_concern is not None and read_concern.level == "snapshot", read_concern
        assert write_concern is not None and write_concern.document == {"w": "majority", "j": True}, write_concern
        assert read_preference == ReadPreference.PRIMARY, read_preference
        assert not self.in_transaction, "transactions do not nest"
        self.in_transaction, self._undo = True, []
        _RUNNING.session = self
        try:
            result = callback(self)
        except BaseException:
            for undo in reversed(self._undo):  # atomicity of the body's writes (never isolation)
                undo()
            with STATS.lock:
                STATS.aborted += 1
            raise
        finally:
            self.in_transaction = False
            self._undo = []
            _RUNNING.session = None
        with STATS.lock:
            STATS.committed += 1
        return result

    def remember(self, undo: Callable[[], object]) -> None:
        self._undo.append(undo)


#: mongomock's own methods, before the shim wraps them.
_ORIGINAL: dict[str, Any] = {}


def _start_session(self: Any, *args: Any, **kwargs: Any) -> ShimSession:
    return ShimSession()


def _command_with_hello(self: Any, cmd: Any, **kwargs: Any) -> Any:
    name = cmd if isinstance(cmd, str) else next(iter(cmd))
    if name == "hello":  # what a replica-set member answers (mongomock has no `hello`)
        return {"ok": 1.0, "isWritablePrimary": True, "setName": "mongomock-session-shim"}
    return _ORIGINAL["command"](self, cmd, **kwargs)


def _session_of(kwargs: dict[str, Any], *, writing: bool = False) -> ShimSession | None:
    session = kwargs.pop("session", None)
    if session is None:
        running = getattr(_RUNNING, "session", None)
        assert not (writing and running is not None), "a write without the session while its transaction runs"
        return None
    assert isinstance(session, ShimSession), f"not the shim's session: {session!r}"
    assert session.in_transaction, "an operation with a session outside its transaction"
    return session


def _reading(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        _session_of(kwargs)
        args = _at_server_time(self, args, kwargs)
        return method(self, *args, **kwargs)

    return run


def _restore(collection: Any, before: list[dict[str, Any]], created: list[Any]) -> Callable[[], None]:
    def undo() -> None:
        for doc_id in created:
            _ORIGINAL["delete_one"](collection, {"_id": doc_id})
        for doc in before:
            _ORIGINAL["replace_one"](collection, {"_id": doc["_id"]}, doc, upsert=True)

    return undo


def _counted(session: ShimSession, undo: Callable[[], None]) -> None:
    session.remember(undo)
    with STATS.lock:
        STATS.writes_in_transactions += 1


def _writing(method: Callable[..., Any], *, many: bool) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        session = _session_of(kwargs, writing=True)
        args = _at_server_time(self, args, kwargs)
        if session is None:
            return method(self, *args, **kwargs)
        flt = args[0] if args else kwargs.get("filter", {})
        if many:
            before = list(_ORIGINAL["find"](self, flt))
        else:
            before = [d for d in [_ORIGINAL["find_one"](self, flt)] if d is not None]
        result = method(self, *args, **kwargs)
        upserted = getattr(result, "upserted_id", None)
        _counted(session, _restore(self, before, [] if upserted is None else [upserted]))
        return result

    return run


def _inserting(self: Any, document: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    session = _session_of(kwargs, writing=True)
    result = _ORIGINAL["insert_one"](self, document, *args, **kwargs)
    if session is not None:
        _counted(session, _restore(self, [], [result.inserted_id]))
    return result


def _install_shim() -> None:
    import mongomock
    from mongomock.collection import Collection
    from mongomock.database import Database

    _ORIGINAL["command"] = Database.command
    for name in ("find", "find_one", "insert_one", "replace_one", "delete_one"):
        _ORIGINAL[name] = getattr(Collection, name)
    mongomock.MongoClient.start_session = _start_session
    Database.command = _command_with_hello
    for name in ("find", "find_one", "count_documents", "aggregate", "distinct"):
        setattr(Collection, name, _reading(getattr(Collection, name)))
    for name in ("update_one", "replace_one", "delete_one", "find_one_and_update", "find_one_and_replace"):
        setattr(Collection, name, _writing(getattr(Collection, name), many=False))
    for name in ("update_many", "delete_many"):
        setattr(Collection, name, _writing(getattr(Collection, name), many=True))
    Collection.insert_one = _inserting


if URI is None:
    _install_shim()

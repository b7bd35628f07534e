"""The call log on SQLite (migration 9)."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from adapters.epoch_micros import instant, micros
from adapters.sqlite.session import SqliteSession, duplicate_key, keyset_page, marks
from crm_domain.interactions import Interaction
from crm_domain.records import Page, PageRequest

_COLUMNS = "id, customer_id, agent_id, at, direction, outcome, note, order_id"


def _row(i: Interaction) -> tuple[Any, ...]:
    return (i.id, i.customer_id, i.agent_id, micros(i.at), i.direction.value, i.outcome.value, i.note, i.order_id)


def _from(row: sqlite3.Row) -> Interaction:
    return Interaction(
        id=row["id"],
        customer_id=row["customer_id"],
        agent_id=row["agent_id"],
        at=instant(row["at"]),
        direction=row["direction"],
        outcome=row["outcome"],
        note=row["note"],
        order_id=row["order_id"],
    )


class SqliteInteractionRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def add(self, interaction: Interaction) -> None:
        try:
            self._s.execute(f"INSERT INTO interactions ({_COLUMNS}) VALUES ({marks(8)})", _row(interaction))
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"interactions.id": ("interaction", "id", interaction.id)}) from exc

    def page(self, customer_id: str, page: PageRequest, *, updated_since: datetime | None = None) -> Page[Interaction]:
        where: list[str] = ["customer_id = ?"]
        params: list[object] = [customer_id]
        if updated_since is not None:  # a range of interactions_by_customer (customer_id, at, id)
            where.append("at >= ?")
            params.append(micros(updated_since))
        return keyset_page(
            self._s,
            select=f"SELECT {_COLUMNS} FROM interactions",
            where=where,
            params=params,
            key_columns=("at", "id"),
            key_types=(int, str),
            descending=True,
            page=page,
            decode=_from,
        )

"""The call log's shapes (SPEC §2.8)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from crm_domain.interactions import CallOutcome, Direction, Interaction
from crm_domain.services.call_log import NewInteraction
from entrypoints.http.schemas.common import Id, In, Out, Text


class InteractionIn(In):
    """A call to log. The agent is the signed-in user and the time is the server's."""

    direction: Direction = Field(description="in: the dealer called; out: we called the dealer.", examples=["in"])
    outcome: CallOutcome = Field(description="How the call ended.", examples=["order_placed"])
    note: Text = Field(default="", description="Free text; several lines allowed.", examples=["wants 20 pumps"])
    order_id: Id | None = Field(default=None, description="The order the call produced: one of this customer's.")

    def command(self) -> NewInteraction:
        return NewInteraction(direction=self.direction, outcome=self.outcome, note=self.note, order_id=self.order_id)


class InteractionOut(Out):
    id: str
    customer_id: str
    agent_id: str
    at: datetime
    direction: Direction
    outcome: CallOutcome
    note: str
    order_id: str | None

    @classmethod
    def of(cls, i: Interaction) -> InteractionOut:
        return cls(
            id=i.id,
            customer_id=i.customer_id,
            agent_id=i.agent_id,
            at=i.at,
            direction=i.direction,
            outcome=i.outcome,
            note=i.note,
            order_id=i.order_id,
        )

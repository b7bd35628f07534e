"""AuditRepository: entries round-trip with their details and are listed per entity, oldest first."""

from __future__ import annotations

from crm_domain.ports import UnitOfWorkFactory
from tests.contract.builders import an_audit_entry, read, write


class TestAuditTrail:
    def test_an_entry_round_trips_with_its_details(self, store: UnitOfWorkFactory) -> None:
        entry = an_audit_entry()
        write(store, lambda uow: uow.audit.add(entry))

        assert read(store, lambda uow: uow.audit.list_for("order", "o-1")) == [entry]

    def test_entries_of_one_entity_come_oldest_first_then_by_id(self, store: UnitOfWorkFactory) -> None:
        entries = [
            an_audit_entry("a-3", minutes=5),
            an_audit_entry("a-1", minutes=9),
            an_audit_entry("a-2", minutes=5),
            an_audit_entry("a-4", minutes=1),
            an_audit_entry("a-5", entity_id="o-2"),
            an_audit_entry("a-6", entity="customer"),
        ]
        write(store, lambda uow: [uow.audit.add(e) for e in entries])

        found = read(store, lambda uow: uow.audit.list_for("order", "o-1"))

        assert [e.id for e in found] == ["a-4", "a-2", "a-3", "a-1"]
        assert [e.id for e in read(store, lambda uow: uow.audit.list_for("customer", "o-1"))] == ["a-6"]
        assert read(store, lambda uow: uow.audit.list_for("order", "o-9")) == []

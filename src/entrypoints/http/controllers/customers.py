"""/api/v1/customers: create, list, read and change customers (dealers) within the actor's scope."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from crm_domain.money import Money
from crm_domain.records import PageRequest
from entrypoints.http.controllers.orders import Cursor, Limit
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.schemas.common import Page
from entrypoints.http.schemas.customers import CustomerIn, CustomerOut, CustomerPatchIn, CustomerSummaryOut


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="createCustomer",
        sync_to_thread=True,
        summary="Create a customer with its credit account; the code must not be taken",
    )
    def create(self, crm: CrmDep, actor: ActorDep, data: JSONBody[CustomerIn]) -> CustomerOut:
        return CustomerOut.of_view(crm.customers.create(actor, data.command()))

    @get("/", operation_id="listCustomers", sync_to_thread=True, summary="Customers in scope, by code")
    def list_customers(
        self, crm: CrmDep, actor: ActorDep, cursor: Cursor = None, limit: Limit = 50
    ) -> Page[CustomerSummaryOut]:
        page = crm.customers.list(actor, PageRequest(limit=limit, cursor=cursor))
        return Page[CustomerSummaryOut](
            items=[CustomerSummaryOut.of(c) for c in page.items], next_cursor=page.next_cursor
        )

    @get(
        "/{customer_id:str}",
        operation_id="getCustomer",
        sync_to_thread=True,
        summary="A customer with its credit terms",
    )
    def get_customer(self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str]) -> CustomerOut:
        return CustomerOut.of_view(crm.customers.get(actor, customer_id))

    @patch(
        "/{customer_id:str}",
        operation_id="updateCustomer",
        sync_to_thread=True,
        summary="Change master data (customer:write) and credit terms (credit_limit: admin; tolerance and "
        "overdue block: credit controller); changes are kept in the credit history",
    )
    def update(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[CustomerPatchIn]
    ) -> CustomerOut:
        # Master data first: customer:write is the rarest permission (admin only), so a refusal comes before any
        # credit term has changed. Each credit term is its own use case with its own history entry.
        if data.changes_master or not data.changes_credit:
            view = crm.customers.update(actor, customer_id, data.master_changes())
        else:
            view = crm.customers.get(actor, customer_id)
        if not data.changes_credit:
            return CustomerOut.of_view(view)
        given, currency, reason = data.model_fields_set, view.customer.currency, data.credit_reason
        if data.credit_limit is not None:
            crm.credit.set_limit(actor, customer_id, Money.of(data.credit_limit, currency), reason)
        if data.tolerance_pct is not None:
            crm.credit.set_tolerance(actor, customer_id, str(data.tolerance_pct), reason)
        if "overdue_block_days" in given:
            crm.credit.set_overdue_block(actor, customer_id, data.overdue_block_days, reason)
        return CustomerOut.of_view(crm.customers.get(actor, customer_id))

"""/api/v1/customers: create, list, read and change customers (dealers) within the actor's scope."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from crm_domain.money import Money
from crm_domain.records import PageRequest
from crm_domain.services.context import UNSET
from crm_domain.services.customers import TermsPatch
from entrypoints.http.controllers.orders import Cursor, Limit
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.list_params import Search, UpdatedSince, since, text_query
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

    @get(
        "/",
        operation_id="listCustomers",
        sync_to_thread=True,
        summary="Customers in scope, by code; `q` finds them by code, name or mobile",
    )
    def list_customers(
        self,
        crm: CrmDep,
        actor: ActorDep,
        q: Search = None,
        updated_since: UpdatedSince = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[CustomerSummaryOut]:
        page = crm.customers.list(
            actor, PageRequest(limit=limit, cursor=cursor), text=text_query(q), updated_since=since(updated_since)
        )
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
        "overdue block: credit controller) that lower credit; a raise is a credit-term request (403 "
        "credit_raise_needs_approval); changes are kept in the credit history",
    )
    def update(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[CustomerPatchIn]
    ) -> CustomerOut:
        # One unit of work: every permission is checked before anything is written, and a refused credit change
        # (a raise: a credit-term change request, SPEC §2.3) leaves the master data unchanged too.
        given = data.model_fields_set
        limit = UNSET
        if data.credit_limit is not None:
            limit = Money.of(data.credit_limit, crm.customers.get(actor, customer_id).customer.currency)
        terms = TermsPatch(
            limit=limit,
            tolerance_pct=data.tolerance_pct if data.tolerance_pct is not None else UNSET,
            overdue_block_days=data.overdue_block_days if "overdue_block_days" in given else UNSET,
            reason=data.credit_reason,
        )
        return CustomerOut.of_view(crm.customers.patch(actor, customer_id, data.master_changes(), terms))

"""The domain's public face: every use case, built on one `ServiceContext` by the composition root."""

from __future__ import annotations

from crm_domain.services.call_log import CallLogService
from crm_domain.services.catalogue import CatalogueService
from crm_domain.services.context import ServiceContext
from crm_domain.services.credit import CreditService
from crm_domain.services.customers import CustomerService
from crm_domain.services.dealer_card import DealerCardService
from crm_domain.services.erp_batch import ErpBatchSync
from crm_domain.services.erp_events import ErpEventService
from crm_domain.services.live_credit import LiveCredit
from crm_domain.services.orders import OrderService
from crm_domain.services.performance import PerformanceService
from crm_domain.services.reports import ReportService
from crm_domain.services.users import UserService


class Crm:
    """All use cases. Entry points and services that import `crm_domain` as a library start here."""

    def __init__(self, ctx: ServiceContext, *, live_credit: LiveCredit | None = None) -> None:
        """`live_credit`: the ERPs read live at the credit check (none when not given: the stored figures)."""
        self.ctx = ctx
        self.live_credit = live_credit
        self.users = UserService(ctx)
        self.customers = CustomerService(ctx)
        self.credit = CreditService(ctx)
        self.catalogue = CatalogueService(ctx)
        self.orders = OrderService(ctx, live_credit)
        self.performance = PerformanceService(ctx)
        self.reports = ReportService(ctx)
        self.erp_events = ErpEventService(ctx)
        self.erp_batch = ErpBatchSync(ctx)
        self.call_log = CallLogService(ctx)
        self.dealer_cards = DealerCardService(ctx)

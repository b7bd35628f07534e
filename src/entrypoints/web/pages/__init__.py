"""One module per area of the web app; `PAGES` lists their controllers for the web router."""

from __future__ import annotations

from entrypoints.web.pages.admin import AdminPages
from entrypoints.web.pages.call_center import CallCenterPages
from entrypoints.web.pages.credit import CreditPages
from entrypoints.web.pages.dealers import DealerPages
from entrypoints.web.pages.home import HomePages
from entrypoints.web.pages.orders import OrderPages
from entrypoints.web.pages.performance import PerformancePages
from entrypoints.web.pages.reports import ReportPages, StatementPages
from entrypoints.web.pages.signin import SignInPages

PAGES = [
    SignInPages,
    HomePages,
    OrderPages,
    CreditPages,
    DealerPages,
    PerformancePages,
    ReportPages,
    StatementPages,
    AdminPages,
    CallCenterPages,
]

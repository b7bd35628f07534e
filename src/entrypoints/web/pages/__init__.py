"""One module per area of the web app; `PAGES` lists their controllers for the web router."""

from __future__ import annotations

from entrypoints.web.pages.call_center import CallCenterPages
from entrypoints.web.pages.home import HomePages
from entrypoints.web.pages.signin import SignInPages

PAGES = [SignInPages, HomePages, CallCenterPages]

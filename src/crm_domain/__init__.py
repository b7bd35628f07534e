"""crm_domain: the pure core of the Sales & CRM platform (orders, dealer credit, users, targets).

Imports only the standard library and attrs. Start from `crm_domain.app.Crm` with a `ServiceContext` whose
ports come from adapters (or from `adapters.memory` in tests).
"""

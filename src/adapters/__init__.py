"""Adapters: one sub-package per technology, each implementing ports of `crm_domain`."""

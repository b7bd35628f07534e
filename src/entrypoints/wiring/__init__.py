"""Parts of the composition root: each chooses the adapter behind one of the ports in `entrypoints.ports` for
the configured store. Only `entrypoints.bootstrap` imports these modules (import-linter holds it)."""

"""In-memory adapters: the reference implementation of every store port, used by unit tests."""

from adapters.memory.store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]

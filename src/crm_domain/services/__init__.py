"""Use cases. Each takes an actor, checks permission and scope, and runs in one unit of work."""

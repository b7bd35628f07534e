"""One controller per resource of API v1."""

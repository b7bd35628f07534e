"""Request and response shapes of API v1 (pydantic): strict, unknown fields refused, money as decimal
strings with two places."""

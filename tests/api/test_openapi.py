"""The OpenAPI document: every operation documented with an id, and public routes marked as needing no token."""

from __future__ import annotations

from tests.api.conftest import Api

PUBLIC = {
    ("post", "/api/v1/auth/otp/request"),
    ("post", "/api/v1/auth/otp/verify"),
    ("post", "/api/v1/auth/refresh"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
}
#: Called by the ERPs: no user token, an HMAC signature of the body instead (its own security scheme).
SIGNED_BY_ERP = {("post", "/api/v1/integrations/{erp}/events")}


def test_operations_have_unique_ids_and_honest_security(api: Api) -> None:
    spec = api.client.get("/schema/openapi.json").json()
    assert spec["security"] == [{"BearerToken": []}]
    ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            ids.append(operation["operationId"])
            assert operation.get("summary"), (method, path)
            if (method, path) in PUBLIC:
                assert operation.get("security") == [{}], (method, path)
            elif (method, path) in SIGNED_BY_ERP:
                assert operation.get("security") == [{"ErpSignature": []}], (method, path)
            elif path.startswith("/api/v1/"):
                assert operation.get("security") is None, (method, path)  # inherits the bearer requirement
    assert len(ids) == len(set(ids))
    served = {(m, p) for p, item in spec["paths"].items() for m in item}
    assert served >= PUBLIC | SIGNED_BY_ERP

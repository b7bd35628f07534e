"""zeep plumbing of the SAP adapter: the transport that recognises refused credentials, basic auth for the WSDL
only, and the plugin that validates every answer against the XSDs of sap_wsdl/ before zeep maps it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import requests
import zeep
from lxml import etree
from zeep.plugins import Plugin

from adapters.erp.sap_messages import GLOBAL_NS, SapAnswerMalformed

WSDL_DIR: Final = Path(__file__).with_name("sap_wsdl")
SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"


@lru_cache(maxsize=1)
def message_schema() -> Any:
    """One lxml schema over every XSD of sap_wsdl/, to validate the payload of each answer."""
    imports = "".join(
        f'<xsd:import namespace="{namespace}" schemaLocation="{name}"/>'
        for namespace, name in (
            (GLOBAL_NS, "sap_global.xsd"),
            ("http://sap.com/xi/SD-SLS", "sd_sls.xsd"),
            ("http://sap.com/xi/FSCM-CR", "fscm_cr.xsd"),
            ("http://sap.com/xi/APPL/Global2", "md.xsd"),
        )
    )
    root = etree.fromstring(
        f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:crm:sap:all">{imports}'
        "</xsd:schema>",
        base_url=WSDL_DIR.as_uri() + "/",
    )
    return etree.XMLSchema(root)


class AnswerValidation(Plugin):
    """Validates the payload of every non-fault answer against the XSDs before zeep maps it."""

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        payload = [] if body is None else [child for child in body if isinstance(child.tag, str)]
        if len(payload) != 1:
            raise SapAnswerMalformed("the answer has no single element in its SOAP Body")
        if payload[0].tag == f"{{{SOAP_ENV}}}Fault":
            return envelope, http_headers  # zeep raises it as a Fault; `SapErpGateway._fault` sorts it
        schema = message_schema()
        if not schema.validate(payload[0]):
            raise SapAnswerMalformed(f"the answer does not validate: {schema.error_log.last_error}")
        return envelope, http_headers


class WsdlOnlyBasicAuth(requests.auth.HTTPBasicAuth):
    """With WS-Security the operations carry a UsernameToken; basic auth then only fetches the WSDL."""

    def __call__(self, request: Any) -> Any:
        return super().__call__(request) if request.method == "GET" else request


class HttpCredentialsRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class SapTransport(zeep.Transport):
    """zeep's transport, but a 401/403 is recognised before zeep tries to read the (HTML) error page as SOAP."""

    def post(self, address: str, message: Any, headers: Any) -> Any:
        response = super().post(address, message, headers)  # type: ignore[no-untyped-call]  # zeep is untyped
        if response.status_code in (401, 403):
            raise HttpCredentialsRefused(response.status_code)
        return response

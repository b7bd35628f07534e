"""A local SAP for the SAP adapter's tests: plain http.server + lxml, no SOAP framework.

It serves the repository's own crm_sap.wsdl (soap:address rewritten to itself) and XSDs, and checks every
request: the path is the operation's port, SOAPAction names the operation, the envelope is SOAP 1.1, basic auth
or the WS-Security UsernameToken matches, and the payload validates against the XSDs. Its answers are built by
hand and validated against the same XSDs before they leave (unless a test asks for a malformed one).
Business refusals are StandardMessageFaults, as SAP's application faults are.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import attrs
from lxml import etree

from tests.erp.peer import Peer, read_body, send

WSDL_DIR = Path(__file__).resolve().parents[2] / "src" / "adapters" / "erp" / "sap_wsdl"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
GLOB = "http://sap.com/xi/SAPGlobal20/Global"
SLS = "http://sap.com/xi/SD-SLS"
CR = "http://sap.com/xi/FSCM-CR"
MD = "http://sap.com/xi/APPL/Global2"
PORTS = {
    "/sap/bc/srt/xip/sap/sd_sls/100/crm/sales_order": {
        f"{{{SLS}}}SalesOrderCreateRequest": "SalesOrderCreateRequestConfirmation_In",
        f"{{{SLS}}}SalesOrderCancelRequest": "SalesOrderCancelRequestConfirmation_In",
        f"{{{SLS}}}SalesOrderByIDQuery": "SalesOrderByIDQueryResponse_In",
    },
    "/sap/bc/srt/xip/sap/fscm_cr/100/crm/credit_management": {
        f"{{{CR}}}CreditManagementAccountByIDQuery": "CreditManagementAccountByIDQuery_In",
        f"{{{CR}}}CreditWorthinessQuery": "CreditWorthinessQuery_In",
        f"{{{CR}}}CreditCommitmentNotification": "CreditCommitmentNotification_In",
    },
    "/sap/bc/srt/xip/sap/appl/100/crm/master_data": {
        f"{{{MD}}}MaterialByChangeDateQuery": "MaterialByChangeDateQueryResponse_In",
        f"{{{MD}}}CustomerByChangeDateQuery": "CustomerByChangeDateQueryResponse_In",
    },
}


def schema() -> etree.XMLSchema:
    imports = "".join(
        f'<xsd:import namespace="{ns}" schemaLocation="{name}"/>'
        for ns, name in ((GLOB, "sap_global.xsd"), (SLS, "sd_sls.xsd"), (CR, "fscm_cr.xsd"), (MD, "md.xsd"))
    )
    root = etree.fromstring(
        f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:all">{imports}'
        "</xsd:schema>",
        base_url=WSDL_DIR.as_uri() + "/",
    )
    return etree.XMLSchema(root)


class Business(Exception):
    """A refusal answered as a StandardMessageFault."""

    def __init__(self, text: str, message_id: str) -> None:
        super().__init__(text)
        self.text = text
        self.message_id = message_id


@attrs.define
class SapOrder:
    id: str
    external_ref: str
    customer: str
    gross: Decimal
    currency: str
    delivery: str = "A"
    invoice: str = "A"
    pod: str | None = None
    cancelled: str = "A"
    invoice_id: str | None = None
    changed_at: datetime = attrs.field(factory=lambda: datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


@attrs.define
class CreditAccount:
    limit: Decimal
    exposure: Decimal
    receivables: Decimal
    overdue_days: int = 0
    currency: str = "INR"
    key_date: datetime = attrs.field(factory=lambda: datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


def el(tag: str, *children: Any, text: Any = None, **attrib: str) -> etree._Element:
    node = etree.Element(tag, attrib)
    if text is not None:
        node.text = str(text)
    for child in children:
        if child is not None:
            node.append(child)
    return node


def amount(tag: str, value: Decimal, currency: str) -> etree._Element:
    return el(tag, text=value, currencyCode=currency)


def stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class SapPeer(Peer):
    def __init__(self, *, username: str = "CRM_RFC", password: str = "s3cret-pass", ws_security: bool = False) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.ws_security = ws_security
        self.schema = schema()
        self.orders: dict[str, SapOrder] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.materials: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, CreditAccount] = {}
        self.commitments: list[dict[str, Any]] = []
        self.received: list[str] = []  # operations, in arrival order
        self.post_authorization: list[str | None] = []  # the Authorization header of each POST
        self.creates: list[etree._Element] = []  # payloads of every create received
        self._next_number = 4_700_000

    # --- test controls --------------------------------------------------------------------------------------

    def add_customer(self, internal_id: str, *, name: str = "", changed: datetime, **fields: Any) -> None:
        self.customers[internal_id] = {"name": name or f"Dealer {internal_id}", "changed": changed, **fields}

    def add_material(self, internal_id: str, *, price: str = "420.00", changed: datetime, **fields: Any) -> None:
        self.materials[internal_id] = {"price": Decimal(price), "changed": changed, **fields}

    def set_balance(self, customer: str, **values: Any) -> None:
        self.accounts[customer] = CreditAccount(**values)

    def set_order_state(self, order_id: str, **statuses: Any) -> None:
        with self.lock:
            order = self.orders[order_id]
            for name, value in statuses.items():
                setattr(order, name, value)

    def business_fault_next(self, text: str, message_id: str, times: int = 1) -> None:
        self.knobs.push("business", (text, message_id), times)

    # --- HTTP -----------------------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        if method == "GET":
            self._get(handler)
            return
        knob = self.knobs.pop()
        if knob and knob[0] == "delay":
            self.wait(knob[1])
        body = read_body(handler)
        self.post_authorization.append(handler.headers.get("Authorization"))
        if not self.ws_security and not self._basic_ok(handler):
            send(
                handler,
                401,
                b"<html><body>Logon failed</body></html>",
                "text/html",
                WWW_Authenticate='Basic realm="SAP"',
            )
            return
        try:
            envelope = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            self.problems.append(f"request is not XML: {exc}")
            send(handler, 500, b"not XML", "text/plain")
            return
        payload, operation = self._check_envelope(handler, envelope)
        if payload is None:
            self._fault(handler, "soap-env:Client", "request breaks the contract")
            return
        if self.ws_security and not self._token_ok(envelope):
            self._fault(handler, "wsse:FailedAuthentication", "The security token could not be authenticated")
            return
        with self.lock:
            self.received.append(operation)
        self._respond(handler, knob, operation, payload)

    def _respond(
        self, handler: BaseHTTPRequestHandler, knob: tuple[str, Any] | None, operation: str, payload: Any
    ) -> None:
        """The answer to a well-formed, authenticated request, as the knob of this request says."""
        if knob and knob[0] == "fail":
            self._fail(handler, knob[1])
            return
        if knob and knob[0] == "business":
            self._business_fault(handler, Business(*knob[1]))
            return
        try:
            with self.lock:
                answer = self._answer(operation, payload)
        except Business as refusal:
            self._business_fault(handler, refusal)
            return
        if answer is None:  # one-way
            send(handler, 202, b"", "text/xml")
            return
        if knob and knob[0] == "malformed":
            self._malformed(handler, knob[1], answer)
            return
        if not self.schema.validate(answer):
            self.problems.append(f"peer built an invalid {operation} answer: {self.schema.error_log.last_error}")
        self._envelope(handler, 200, answer)

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        if not self._basic_ok(handler):
            send(handler, 401, b"Logon failed", "text/plain")
            return
        path = handler.path.split("?")[0].rsplit("/", 1)[-1]  # the XSDs sit beside the WSDL
        if handler.path.endswith("?wsdl"):
            text = (WSDL_DIR / "crm_sap.wsdl").read_text().replace("https://sap.example.invalid", self.base_url)
            send(handler, 200, text.encode(), "text/xml")
        elif path in {"sap_global.xsd", "sd_sls.xsd", "fscm_cr.xsd", "md.xsd"}:
            send(handler, 200, (WSDL_DIR / path).read_bytes(), "text/xml")
        else:
            send(handler, 404, b"not found", "text/plain")

    def _basic_ok(self, handler: BaseHTTPRequestHandler) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return handler.headers.get("Authorization") == f"Basic {expected}"

    def _token_ok(self, envelope: etree._Element) -> bool:
        token = envelope.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        password = token.find(f"{{{WSSE}}}Password")
        return (
            token.findtext(f"{{{WSSE}}}Username") == self.username
            and password is not None
            and password.get("Type", PASSWORD_TEXT) == PASSWORD_TEXT
            and password.text == self.password
        )

    def _check_envelope(
        self, handler: BaseHTTPRequestHandler, envelope: etree._Element
    ) -> tuple[etree._Element | None, str]:
        if envelope.tag != f"{{{SOAP}}}Envelope":
            self.problems.append(f"not a SOAP 1.1 envelope: {envelope.tag}")
            return None, ""
        body = envelope.find(f"{{{SOAP}}}Body")
        payload = [] if body is None else [child for child in body if isinstance(child.tag, str)]
        if len(payload) != 1:
            self.problems.append("the SOAP Body must hold exactly one element")
            return None, ""
        operation = PORTS.get(handler.path, {}).get(payload[0].tag)
        if operation is None:
            self.problems.append(f"{payload[0].tag} was posted to {handler.path}, which is not its port")
            return None, ""
        action = handler.headers.get("SOAPAction", "").strip('"')
        if action != f"http://sap.com/xi/WebService/soap1.1/{operation}":
            self.problems.append(f"SOAPAction {action!r} does not name {operation}")
            return None, ""
        if not self.schema.validate(payload[0]):
            self.problems.append(f"{operation} request does not validate: {self.schema.error_log.last_error}")
            return None, ""
        return payload[0], operation

    # --- answers --------------------------------------------------------------------------------------------

    def _answer(self, operation: str, request: etree._Element) -> etree._Element | None:
        if operation == "SalesOrderCreateRequestConfirmation_In":
            self.creates.append(request)
            return self._create(request.find("SalesOrder"))
        if operation == "SalesOrderCancelRequestConfirmation_In":
            return self._cancel(request.findtext("SalesOrder/ID"))
        if operation == "SalesOrderByIDQueryResponse_In":
            return self._status(request.findtext("SalesOrderSelectionByID/ID"))
        if operation == "CreditManagementAccountByIDQuery_In":
            return self._account(request.findtext("CreditManagementAccountSelectionByID/DebtorPartyInternalID"))
        if operation == "CreditWorthinessQuery_In":
            return self._worthiness(request)
        if operation == "CreditCommitmentNotification_In":
            for item in request.findall("CreditCommitment"):
                self.commitments.append({child.tag: child.text for child in item})
            return None
        if operation == "MaterialByChangeDateQueryResponse_In":
            return self._page(request, "Material", self.materials, self._material)
        return self._page(request, "Customer", self.customers, self._customer)

    def _create(self, order: etree._Element) -> etree._Element:
        ref = order.findtext("ExternalReference")
        existing = next((o for o in self.orders.values() if o.external_ref == ref), None)
        if existing is None:
            customer = order.findtext("BuyerParty/InternalID")
            if customer not in self.customers:
                raise Business(f"Sold-to party {customer} is not defined", "V1/302")
            for material in order.findall("Item/Product/InternalID"):
                if material.text not in self.materials:
                    raise Business(f"Material {material.text} does not exist", "M3/305")
            gross = order.find("GrossAmount")
            self._next_number += 1
            existing = SapOrder(
                id=f"{self._next_number:010d}",
                external_ref=ref,
                customer=customer,
                gross=Decimal(gross.text),
                currency=gross.get("currencyCode"),
            )
            self.orders[existing.id] = existing
            duplicate = False
        else:
            duplicate = True
        return el(
            f"{{{SLS}}}SalesOrderCreateConfirmation",
            el(
                "SalesOrder",
                el("ID", text=existing.id),
                el("ExternalReference", text=existing.external_ref),
                el("DuplicateIndicator", text=str(duplicate).lower()),
            ),
        )

    def _order(self, order_id: str | None) -> SapOrder:
        if order_id not in self.orders:
            raise Business(f"Sales document {order_id} is not in the database", "V1/302")
        return self.orders[order_id]

    def _cancel(self, order_id: str | None) -> etree._Element:
        order = self._order(order_id)
        if order.invoice == "C" and order.cancelled != "C":
            raise Business(f"Sales document {order.id} is already invoiced and cannot be cancelled", "V1/046")
        order.cancelled = "C"
        return el(
            f"{{{SLS}}}SalesOrderCancelConfirmation",
            el("SalesOrder", el("ID", text=order.id), el("CancellationStatusCode", text="C")),
        )

    def _status(self, order_id: str | None) -> etree._Element:
        order = self._order(order_id)
        invoice = None
        if order.invoice_id:
            invoice = el("Invoice", el("ID", text=order.invoice_id), amount("GrossAmount", order.gross, order.currency))
        return el(
            f"{{{SLS}}}SalesOrderByIDResponse",
            el(
                "SalesOrder",
                el("ID", text=order.id),
                el("ExternalReference", text=order.external_ref),
                el("DeliveryProcessingStatusCode", text=order.delivery),
                el("InvoiceProcessingStatusCode", text=order.invoice),
                None if order.pod is None else el("ProofOfDeliveryStatusCode", text=order.pod),
                el("CancellationStatusCode", text=order.cancelled),
                invoice,
                el("LastChangeDateTime", text=stamp(order.changed_at)),
            ),
        )

    def _account(self, customer: str | None) -> etree._Element:
        if customer not in self.accounts:
            raise Business(f"Credit account {customer} does not exist in segment 0000", "UKM_BP/101")
        account = self.accounts[customer]
        return el(
            f"{{{CR}}}CreditManagementAccountByIDResponse",
            el(
                "CreditManagementAccount",
                el("DebtorPartyInternalID", text=customer),
                el("CreditSegmentInternalID", text="0000"),
                amount("CreditLimitAmount", account.limit, account.currency),
                amount("CreditExposureAmount", account.exposure, account.currency),
                amount("ReceivablesAmount", account.receivables, account.currency),
                el("OldestOpenItemOverdueDays", text=account.overdue_days),
                el("BlockedIndicator", text="false"),
                el("KeyDateTime", text=stamp(account.key_date)),
            ),
        )

    def _worthiness(self, request: etree._Element) -> etree._Element:
        customer = request.findtext("DebtorPartyInternalID")
        if customer not in self.accounts:
            raise Business(f"Credit account {customer} does not exist in segment 0000", "UKM_BP/101")
        account = self.accounts[customer]
        available = account.limit - account.exposure
        checked = Decimal(request.findtext("CheckedAmount"))
        return el(
            f"{{{CR}}}CreditWorthinessResponse",
            el(
                "CreditWorthiness",
                el("DebtorPartyInternalID", text=customer),
                el("CheckPassedIndicator", text=str(checked <= available).lower()),
                amount("CreditLimitAmount", account.limit, account.currency),
                amount("CreditExposureAmount", account.exposure, account.currency),
                amount("AvailableAmount", available, account.currency),
                el("RiskClassCode", text="B"),
            ),
        )

    def _page(self, request: etree._Element, kind: str, table: dict[str, dict[str, Any]], render: Any) -> Any:
        since_text = request.findtext(f"{kind}SelectionByChangeDate/ChangedSinceDateTime")
        since = datetime.fromisoformat(since_text) if since_text else None
        after = request.findtext("ProcessingConditions/LastReturnedObjectID") or ""
        limit = int(request.findtext("ProcessingConditions/QueryHitsMaximumNumberValue"))
        hits = [key for key in sorted(table) if key > after and (since is None or table[key]["changed"] >= since)]
        page, more = hits[:limit], len(hits) > limit
        return el(
            f"{{{MD}}}{kind}ByChangeDateResponse",
            *[render(key, table[key]) for key in page],
            el(
                "ProcessingConditions",
                el("ReturnedQueryHitsNumberValue", text=len(page)),
                el("MoreHitsAvailableIndicator", text=str(more).lower()),
                el("LastReturnedObjectID", text=page[-1]) if page else None,
            ),
        )

    @staticmethod
    def _material(key: str, row: dict[str, Any]) -> etree._Element:
        return el(
            "Material",
            el("InternalID", text=key),
            el("ExternalID", text=row["sku"]) if row.get("sku") else None,
            el("Description", text=row.get("name", f"Material {key}")),
            el("BaseUnitOfMeasureCode", text=row.get("uom", "EA")),
            amount("PriceAmount", row["price"], row.get("currency", "INR")),
            el("TaxRatePercent", text=row.get("tax", "18.00")),
            el("DeletionIndicator", text=str(row.get("deleted", False)).lower()),
            el("LastChangeDateTime", text=stamp(row["changed"])),
        )

    @staticmethod
    def _customer(key: str, row: dict[str, Any]) -> etree._Element:
        return el(
            "Customer",
            el("InternalID", text=key),
            el("ExternalID", text=row["code"]) if row.get("code") else None,
            el("Name", text=row["name"]),
            el("MobilePhoneNumber", text=row["mobile"]) if row.get("mobile") else None,
            el("SalesDistrictCode", text=row["territory"]) if row.get("territory") else None,
            el("CurrencyCode", text=row.get("currency", "INR")),
            el("BlockedIndicator", text=str(row.get("blocked", False)).lower()),
            el("LastChangeDateTime", text=stamp(row["changed"])),
        )

    # --- envelopes and failures -----------------------------------------------------------------------------

    def _envelope(self, handler: BaseHTTPRequestHandler, status: int, payload: etree._Element) -> None:
        envelope = el(f"{{{SOAP}}}Envelope", el(f"{{{SOAP}}}Header"), el(f"{{{SOAP}}}Body", payload))
        send(
            handler, status, etree.tostring(envelope, xml_declaration=True, encoding="utf-8"), "text/xml; charset=utf-8"
        )

    def _fault(self, handler: BaseHTTPRequestHandler, code: str, text: str, detail: Any = None) -> None:
        prefix = code.partition(":")[0]
        nsmap = {"soap-env": SOAP, "wsse": WSSE}
        fault = etree.Element(f"{{{SOAP}}}Fault", nsmap={prefix: nsmap.get(prefix, SOAP)})
        fault.append(el("faultcode", text=code))
        fault.append(el("faultstring", text=text))
        if detail is not None:
            fault.append(el("detail", detail))
        self._envelope(handler, 500, fault)

    def _business_fault(self, handler: BaseHTTPRequestHandler, refusal: Business) -> None:
        standard = el(
            f"{{{GLOB}}}StandardMessageFault",
            el(
                "standard",
                el("faultText", text=refusal.text),
                el(
                    "faultDetail",
                    el("severity", text="error"),
                    el("text", text=refusal.text),
                    el("id", text=refusal.message_id),
                ),
            ),
        )
        assert self.schema.validate(standard), self.schema.error_log.last_error
        self._fault(handler, "soap-env:Server", refusal.text, standard)

    def _fail(self, handler: BaseHTTPRequestHandler, how: str) -> None:
        if how in ("default", "fault"):  # a technical fault of the SOAP runtime, no application detail
            self._fault(handler, "soap-env:Server", "SRT Framework exception: ICF Error when processing request")
        elif how == "http503":
            send(handler, 503, b"", "text/plain")
        elif how == "http500_html":
            send(handler, 500, b"<html><body><h1>500 Internal Server Error</h1>", "text/html")
        else:
            raise ValueError(how)

    def _malformed(self, handler: BaseHTTPRequestHandler, how: str, answer: etree._Element) -> None:
        if how == "not_xml":
            send(handler, 200, b"<soap-env:Envelope><unclosed>", "text/xml")
        elif how == "html":
            send(handler, 200, b"<!DOCTYPE html><html><body>Gateway maintenance</body></html>", "text/html")
        elif how == "invalid":  # well-formed, but the answer breaks its XSD: the first required child is gone
            del answer[0][0]
            self._envelope(handler, 200, answer)
        elif how == "wrong_ref":  # a valid confirmation, but of another order
            answer.find("SalesOrder/ExternalReference").text = "SOMEONE-ELSES"
            self._envelope(handler, 200, answer)
        elif how == "wrong_answer":  # a valid message, but not the one the operation answers with
            self._envelope(
                handler, 200, el(f"{{{SLS}}}SalesOrderByIDQuery", el("SalesOrderSelectionByID", el("ID", text="1")))
            )
        else:
            raise ValueError(how)

"""SAP S/4HANA over SOAP with zeep: the `ErpGateway` for customers whose ERP is `sap` (SPEC §8).

Built against the WSDL/XSDs in sap_wsdl/ (docs/integrations/sap.md describes the mapping). The zeep client is
made on first use, not at construction, so a wiring step never touches the network.

Failures: a `StandardMessageFault` (the application fault every operation declares: unknown customer or
material, blocked sold-to party) is `ErpRejected`, except SAP's lock messages, which pass once the lock is
gone; any other fault, a transport error, a timeout, an HTTP error, XML that does not parse or an answer that
does not validate against the XSDs is `UpstreamUnavailable`; refused credentials are `ErpCredentialsRefused`
(an `UpstreamUnavailable`, see its docstring).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.wsse.username import UsernameToken

from adapters.erp import sap_messages as msg
from adapters.erp.errors import ErpCredentialsRefused
from adapters.erp.sap_messages import SapAnswerMalformed, SapCreditCommitment, SapCreditWorthiness
from adapters.erp.sap_transport import (
    WSDL_DIR,
    AnswerValidation,
    HttpCredentialsRefused,
    SapTransport,
    WsdlOnlyBasicAuth,
)
from crm_domain.erp import (
    ErpBalance,
    ErpChanges,
    ErpCustomer,
    ErpOrderAck,
    ErpOrderRequest,
    ErpOrderStatus,
    ErpProduct,
    ErpRejected,
)
from crm_domain.errors import UpstreamUnavailable
from crm_domain.money import Money

log = logging.getLogger("crm.erp.sap")
T = TypeVar("T")

BUNDLED_WSDL: Final = WSDL_DIR / "crm_sap.wsdl"
_SERVICE = "CrmSapService"
_SETTINGS = "CRM_SAP_USERNAME / CRM_SAP_PASSWORD"
# SAP lock messages ("sales document is being processed", "object is locked"): a business fault that passes later.
_TEMPORARY_MESSAGES: Final = frozenset({"V1/042", "MC/601"})
_AUTH_FAULTS: Final = frozenset({"FailedAuthentication", "InvalidSecurityToken", "InvalidSecurity"})


class SapErpGateway:
    """`ErpGateway` for SAP S/4HANA. `wsdl` is a path or URL (the bundled `BUNDLED_WSDL` by default in wiring);
    `endpoint` (scheme://host:port[/prefix]) replaces the host of every soap:address and keeps its path.
    Basic auth by default; `ws_security=True` sends a WS-Security UsernameToken instead."""

    def __init__(
        self,
        wsdl: str,
        *,
        username: str | None,
        password: str | None,
        ws_security: bool = False,
        timeout: float = 10.0,
        endpoint: str | None = None,
        credit_segment: str = "0000",
    ) -> None:
        self._wsdl = wsdl
        self._username = username
        self._password = password
        self._ws_security = ws_security
        self._timeout = timeout
        self._endpoint = endpoint
        self._credit_segment = credit_segment
        self._lock = threading.Lock()
        self._services: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return "sap"

    # --- ErpGateway ---------------------------------------------------------------------------------------

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        answer = self._call(
            "SalesOrderProcessing", "SalesOrderCreateRequestConfirmation_In", **msg.create_request(order)
        )

        def ack() -> ErpOrderAck:
            sales_order = msg.required(answer, "SalesOrder")
            if sales_order.ExternalReference != order.external_ref:
                raise SapAnswerMalformed(f"confirmation is for {sales_order.ExternalReference!r}")
            return ErpOrderAck(erp_order_id=str(sales_order.ID), duplicate=bool(sales_order.DuplicateIndicator))

        return self._mapped("SalesOrderCreateRequestConfirmation_In", ack)

    def cancel_order(self, erp_order_id: str, reason: str) -> None:
        request: dict[str, Any] = {"ID": erp_order_id}
        if reason:
            request["CancellationReasonText"] = reason
        answer = self._call(
            "SalesOrderProcessing",
            "SalesOrderCancelRequestConfirmation_In",
            MessageHeader=msg.message_header(),
            SalesOrder=request,
        )
        status = self._mapped("cancel", lambda: msg.required(answer, "SalesOrder", "CancellationStatusCode"))
        if status != "C":
            raise UpstreamUnavailable(
                f"SAP confirmed the cancellation of {erp_order_id} but left it at status {status}"
            )

    def order_status(self, erp_order_id: str) -> ErpOrderStatus:
        answer = self._call(
            "SalesOrderProcessing", "SalesOrderByIDQueryResponse_In", SalesOrderSelectionByID={"ID": erp_order_id}
        )
        return self._mapped("SalesOrderByIDQueryResponse_In", lambda: msg.order_status(answer))

    def customer_balance(self, customer_code: str) -> ErpBalance:
        """Receivables from the credit account of `customer_code` (the SAP business partner) in the segment."""
        answer = self._call(
            "CreditManagement",
            "CreditManagementAccountByIDQuery_In",
            MessageHeader=msg.message_header(),
            CreditManagementAccountSelectionByID={
                "DebtorPartyInternalID": customer_code,
                "CreditSegmentInternalID": self._credit_segment,
            },
        )

        def balance() -> ErpBalance:
            account = msg.required(answer, "CreditManagementAccount")
            return ErpBalance(
                customer_code=customer_code,
                receivables=msg.money_of(msg.required(account, "ReceivablesAmount")),
                overdue_days=int(msg.required(account, "OldestOpenItemOverdueDays")),
                as_of=msg.instant(msg.required(account, "KeyDateTime")),
            )

        return self._mapped("CreditManagementAccountByIDQuery_In", balance)

    def customers_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpCustomer]:
        selection, conditions = msg.page_request(since, cursor, limit)
        answer = self._call(
            "MasterData",
            "CustomerByChangeDateQueryResponse_In",
            MessageHeader=msg.message_header(),
            CustomerSelectionByChangeDate=selection,
            ProcessingConditions=conditions,
        )
        return self._mapped(
            "CustomerByChangeDateQueryResponse_In",
            lambda: ErpChanges(
                items=tuple(msg.customer(node) for node in msg.page_items(answer, "Customer")),
                next_cursor=msg.next_cursor(answer),
            ),
        )

    def products_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpProduct]:
        selection, conditions = msg.page_request(since, cursor, limit)
        answer = self._call(
            "MasterData",
            "MaterialByChangeDateQueryResponse_In",
            MessageHeader=msg.message_header(),
            MaterialSelectionByChangeDate=selection,
            ProcessingConditions=conditions,
        )
        return self._mapped(
            "MaterialByChangeDateQueryResponse_In",
            lambda: ErpChanges(
                items=tuple(msg.product(node) for node in msg.page_items(answer, "Material")),
                next_cursor=msg.next_cursor(answer),
            ),
        )

    # --- SAP Credit Management beyond the port ----------------------------------------------------------------

    def credit_worthiness(self, customer_code: str, amount: Money) -> SapCreditWorthiness:
        """SAP's live credit check (`CreditWorthinessQuery_In`) of `amount` for the customer."""
        answer = self._call(
            "CreditManagement",
            "CreditWorthinessQuery_In",
            MessageHeader=msg.message_header(),
            DebtorPartyInternalID=customer_code,
            CreditSegmentInternalID=self._credit_segment,
            CheckedAmount=msg.amount(amount),
        )

        def worthiness() -> SapCreditWorthiness:
            node = msg.required(answer, "CreditWorthiness")
            return SapCreditWorthiness(
                customer_code=customer_code,
                passed=bool(msg.required(node, "CheckPassedIndicator")),
                limit=msg.money_of(msg.required(node, "CreditLimitAmount")),
                exposure=msg.money_of(msg.required(node, "CreditExposureAmount")),
                available=msg.money_of(msg.required(node, "AvailableAmount")),
                risk_class=getattr(node, "RiskClassCode", None),
            )

        return self._mapped("CreditWorthinessQuery_In", worthiness)

    def report_commitments(self, commitments: Sequence[SapCreditCommitment]) -> None:
        """Report open orders to SAP Credit Management (`CreditCommitmentNotification_In`, one-way: SAP answers
        202 and processes later). A later report of the same external reference replaces the earlier one."""
        if not commitments:
            return
        self._call(
            "CreditManagement",
            "CreditCommitmentNotification_In",
            MessageHeader=msg.message_header(),
            CreditCommitment=[
                {
                    "DebtorPartyInternalID": item.customer_code,
                    "CreditSegmentInternalID": self._credit_segment,
                    "ExternalReference": item.external_ref,
                    "Amount": msg.amount(item.amount),
                }
                for item in commitments
            ],
        )

    # --- transport and failures -------------------------------------------------------------------------------

    def _call(self, port: str, operation: str, **request: Any) -> Any:
        service = self._service(port)
        try:
            return getattr(service, operation)(**request)
        except zeep.exceptions.Fault as fault:
            raise self._fault(operation, fault) from None
        except HttpCredentialsRefused as exc:
            log.error("SAP refused the credentials (%s)", exc)
            raise ErpCredentialsRefused("SAP", str(exc), _SETTINGS) from None
        except zeep.exceptions.TransportError as exc:
            log.warning("SAP %s answered HTTP %s", operation, exc.status_code)
            what = "with a body that is not SOAP" if exc.status_code == 200 else f"HTTP {exc.status_code}"
            raise UpstreamUnavailable(f"SAP {operation} answered {what}") from None
        except requests.Timeout:
            log.warning("SAP %s timed out after %ss", operation, self._timeout)
            raise UpstreamUnavailable(f"SAP {operation} timed out after {self._timeout}s") from None
        except requests.RequestException as exc:
            log.warning("SAP %s: %s", operation, type(exc).__name__)
            raise UpstreamUnavailable(f"SAP cannot be reached ({operation}): {type(exc).__name__}") from None
        except zeep.exceptions.ValidationError as exc:
            raise ErpRejected(f"the request does not fit SAP's {operation} schema: {exc}") from None
        except (SapAnswerMalformed, zeep.exceptions.Error, etree.LxmlError) as exc:
            log.warning("SAP %s answered malformed: %s", operation, exc)
            raise UpstreamUnavailable(f"SAP {operation} answered malformed: {exc}") from None

    def _mapped(self, operation: str, mapping: Callable[[], T]) -> T:
        try:
            return mapping()
        except (SapAnswerMalformed, AttributeError, TypeError, ValueError, ArithmeticError) as exc:
            log.warning("SAP %s answer cannot be mapped: %s", operation, exc)
            raise UpstreamUnavailable(f"SAP {operation} answered malformed: {exc}") from None

    def _fault(self, operation: str, fault: Any) -> Exception:
        code = (fault.code or "").rpartition(":")[2]
        if code in _AUTH_FAULTS:
            log.error("SAP refused the WS-Security credentials (%s)", code)
            return ErpCredentialsRefused("SAP", f"WS-Security fault {code}", _SETTINGS)
        detail = fault.detail if isinstance(fault.detail, etree._Element) else None
        business = None if detail is None else detail.find(f"{{{msg.GLOBAL_NS}}}StandardMessageFault")
        if business is None:
            log.warning("SAP %s technical fault %s: %s", operation, code, fault.message)
            return UpstreamUnavailable(f"SAP {operation} failed (fault {code}: {fault.message})")
        text = business.findtext("standard/faultText") or fault.message or "refused"
        ids = [node.findtext("id") or "" for node in business.findall("standard/faultDetail")]
        label = f"{text} [{', '.join(i for i in ids if i)}]" if any(ids) else text
        if _TEMPORARY_MESSAGES.intersection(ids):
            log.warning("SAP %s temporarily refused: %s", operation, label)
            return UpstreamUnavailable(f"SAP {operation} temporarily refused: {label}")
        return ErpRejected(f"SAP refused {operation}: {label}")

    def _service(self, port: str) -> Any:
        with self._lock:
            if self._services is None:
                self._services = self._connect()
            return self._services[port]

    def _connect(self) -> dict[str, Any]:
        session = requests.Session()
        wsse = None
        if self._username is not None:
            if self._ws_security:
                wsse = UsernameToken(self._username, self._password or "")  # type: ignore[no-untyped-call]
                session.auth = WsdlOnlyBasicAuth(self._username, self._password or "")
            else:
                session.auth = requests.auth.HTTPBasicAuth(self._username, self._password or "")
        transport = SapTransport(  # type: ignore[no-untyped-call]
            session=session, timeout=self._timeout, operation_timeout=self._timeout
        )
        # A local WSDL (the bundled one) never pulls anything from the network; SAP's own WSDL imports its XSDs.
        remote = self._wsdl.startswith(("http://", "https://"))
        settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=not remote)
        try:
            client = zeep.Client(  # type: ignore[no-untyped-call]
                self._wsdl, transport=transport, wsse=wsse, settings=settings, plugins=[AnswerValidation()]
            )
            ports = client.wsdl.services[_SERVICE].ports
            return {
                name.removesuffix("Port"): client.create_service(  # type: ignore[no-untyped-call]
                    port.binding.name, self._address(port)
                )
                for name, port in ports.items()
            }
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (401, 403):
                log.error("SAP refused the credentials for the WSDL (HTTP %s)", status)
                raise ErpCredentialsRefused("SAP", f"HTTP {status} for the WSDL", _SETTINGS) from None
            raise UpstreamUnavailable(f"the SAP WSDL cannot be loaded: HTTP {status}") from None
        except (requests.RequestException, zeep.exceptions.Error, etree.LxmlError, OSError, KeyError) as exc:
            log.warning("SAP WSDL cannot be loaded: %s", type(exc).__name__)
            raise UpstreamUnavailable(f"the SAP WSDL cannot be loaded: {type(exc).__name__}: {exc}") from None

    def _address(self, port: Any) -> str:
        address = str(port.binding_options["address"])
        if not self._endpoint:
            return address
        base, path = urlsplit(self._endpoint), urlsplit(address)
        return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path.path, path.query, ""))

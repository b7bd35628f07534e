"""Administration: users, customers, products, targets, and CSV imports by upload with a result per row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from anyio import from_thread
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from crm_domain.errors import DomainError, NotFound, ValidationFailed
from crm_domain.money import Money
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct, ProductChanges
from crm_domain.services.customers import NewCustomer
from crm_domain.services.users import NewUser, UserChanges
from crm_domain.users import Permission, Role
from entrypoints.catalogue_cache import new_catalogue_version
from entrypoints.http.deps import ActorDep, AuthDep, CrmDep
from entrypoints.imports import CustomerImport, ImportReport, ProductImport, file_rows, import_rows
from entrypoints.web.forms import FormDep
from entrypoints.web.names import Names
from entrypoints.web.pages.performance import current_period, months_back
from entrypoints.web.rendering import page

LIST_SIZE = 200
MAX_IMPORT_BYTES = 10 * 1024 * 1024


def _back(path: str, done: str) -> Response[Any]:
    return Redirect(f"{path}?done={done}", status_code=HTTP_303_SEE_OTHER)


class AdminPages(Controller):
    path = "/admin"

    # --- users ------------------------------------------------------------------------------------------------

    def _users_page(self, request: Request[Any, Any, Any], crm: Any, actor: Any, **extra: Any) -> Template:
        actor.require(Permission.USER_MANAGE)
        users = crm.users.list(actor, PageRequest(limit=LIST_SIZE)).items
        names = Names(crm, actor)
        return page(
            request,
            "admin/users.html",
            users=sorted(users, key=lambda u: u.name),
            managers=[u for u in users if Role.SALES_MANAGER in u.roles],
            customers=sorted(names.customers().values(), key=lambda c: c.code),
            roles=[r.value for r in Role],
            names=names,
            **extra,
        )

    @get("/users", sync_to_thread=True)
    def users(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, done: FromQuery[str] = ""
    ) -> Template:
        return self._users_page(request, crm, actor, done=done)

    @post("/users", sync_to_thread=True, status_code=200)
    def create_user(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, form: FormDep
    ) -> Response[Any]:
        try:
            roles = frozenset(Role(r) for r in form.all("roles"))
            if not roles:
                raise ValidationFailed("choose at least one role", field="roles")
            crm.users.create(
                actor,
                NewUser(
                    mobile=form.get("mobile"),
                    name=form.get("name"),
                    roles=roles,
                    email=form.get("email") or None,
                    manager_id=form.get("manager_id") or None,
                    territory=form.get("territory") or None,
                    customer_id=form.get("customer_id") or None,
                ),
            )
        except (DomainError, ValueError) as exc:
            message = exc.message if isinstance(exc, DomainError) else "choose roles from the list"
            return self._users_page(request, crm, actor, error=message, form=form)
        return _back("/admin/users", "created")

    @post("/users/{user_id:str}/active", sync_to_thread=True, status_code=200)
    def set_active(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        auth: AuthDep,
        actor: ActorDep,
        user_id: FromPath[str],
        form: FormDep,
    ) -> Response[Any]:
        active = form.get("active") == "yes"
        try:
            user = crm.users.update(actor, user_id, UserChanges(active=active))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return self._users_page(request, crm, actor, error=exc.message)
        if not active:
            auth.end_sessions(user.id)  # a deactivated user is signed out everywhere now, as on the API
        return _back("/admin/users", "activated" if active else "deactivated")

    # --- customers --------------------------------------------------------------------------------------------

    def _customers_page(self, request: Request[Any, Any, Any], crm: Any, actor: Any, **extra: Any) -> Template:
        actor.require(Permission.CUSTOMER_WRITE)
        names = Names(crm, actor)
        users = crm.users.list(actor, PageRequest(limit=LIST_SIZE)).items
        return page(
            request,
            "admin/customers.html",
            customers=sorted(names.customers().values(), key=lambda c: c.code),
            reps=sorted((u for u in users if Role.SALES_REP in u.roles), key=lambda u: u.name),
            names=names,
            **extra,
        )

    @get("/customers", sync_to_thread=True)
    def customers(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, done: FromQuery[str] = ""
    ) -> Template:
        return self._customers_page(request, crm, actor, done=done)

    @post("/customers", sync_to_thread=True, status_code=200)
    def create_customer(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, form: FormDep
    ) -> Response[Any]:
        try:
            crm.customers.create(
                actor,
                NewCustomer(
                    code=form.get("code"),
                    name=form.get("name"),
                    mobile=form.get("mobile"),
                    credit_limit=Money.of(form.get("credit_limit") or "0", crm.ctx.config.default_currency),
                    territory=form.get("territory"),
                    assigned_rep_id=form.get("assigned_rep_id") or None,
                    erp_customer_id=form.get("erp_customer_id") or None,
                ),
            )
        except (DomainError, ValueError) as exc:
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            return self._customers_page(request, crm, actor, error=message, form=form)
        return _back("/admin/customers", "created")

    # --- products ---------------------------------------------------------------------------------------------

    def _products_page(
        self, request: Request[Any, Any, Any], crm: Any, actor: Any, cursor: str | None = None, **extra: Any
    ) -> Template:
        actor.require(Permission.PRODUCT_WRITE)
        products = crm.catalogue.list(actor, PageRequest(limit=50, cursor=cursor))
        return page(request, "admin/products.html", products=products.items, next_cursor=products.next_cursor, **extra)

    @get("/products", sync_to_thread=True)
    def products(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        cursor: FromQuery[str | None] = None,
        done: FromQuery[str] = "",
    ) -> Template:
        return self._products_page(request, crm, actor, cursor, done=done)

    @post("/products", sync_to_thread=True, status_code=200)
    def save_product(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, form: FormDep
    ) -> Response[Any]:
        """A new SKU is created; a known one gets the name, price, tax rate and active flag given."""
        currency = crm.ctx.config.default_currency
        sku = form.get("sku").upper()
        try:
            price = Money.of(form.get("unit_price"), currency)
            tax = Decimal(form.get("tax_rate") or "0")
            active = form.get("active", "yes") == "yes"
            try:
                crm.catalogue.get(actor, sku)
            except NotFound:
                crm.catalogue.create(
                    actor,
                    NewProduct(
                        sku=sku,
                        name=form.get("name"),
                        unit_price=price,
                        uom=form.get("uom") or "EA",
                        tax_rate=tax,
                        active=active,
                    ),
                )
                return _back("/admin/products", "created")
            crm.catalogue.update(
                actor, sku, ProductChanges(name=form.get("name"), unit_price=price, tax_rate=tax, active=active)
            )
        except (DomainError, ValueError, ArithmeticError) as exc:
            message = exc.message if isinstance(exc, DomainError) else "price and tax rate must be numbers"
            return self._products_page(request, crm, actor, error=message, form=form)
        return _back("/admin/products", "saved")

    # --- targets ----------------------------------------------------------------------------------------------

    @get("/targets", sync_to_thread=True)
    def targets(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        period: FromQuery[str | None] = None,
        done: FromQuery[str] = "",
    ) -> Template:
        actor.require(Permission.TARGET_WRITE)
        chosen = period or current_period(crm)
        rows = crm.performance.figures(actor, chosen)
        upcoming = months_back(current_period(crm), 6)[::-1]
        return page(
            request,
            "admin/targets.html",
            rows=rows,
            period=chosen,
            periods=[_next_month(upcoming[0]), *upcoming],
            done=done,
        )

    @post("/targets", sync_to_thread=True, status_code=200)
    def set_target(self, crm: CrmDep, actor: ActorDep, form: FormDep) -> Response[Any]:
        period = form.get("period")
        crm.performance.set_target(
            actor, form.get("user_id"), period, Money.of(form.get("amount") or "0", crm.ctx.config.default_currency)
        )
        return Redirect(f"/admin/targets?period={period}&done=saved", status_code=HTTP_303_SEE_OTHER)

    # --- imports ----------------------------------------------------------------------------------------------

    @get("/imports", sync_to_thread=True)
    def imports(self, request: Request[Any, Any, Any], actor: ActorDep) -> Template:
        actor.require(Permission.CUSTOMER_WRITE)
        return page(request, "admin/imports.html", report=None)

    @post("/imports", sync_to_thread=True, status_code=200)
    def run_import(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, form: FormDep) -> Template:
        kind = form.get("kind")
        upload = form.files.get("file")
        if kind not in ("customers", "products"):
            raise ValidationFailed("choose customers or products", field="kind")
        actor.require(Permission.CUSTOMER_WRITE if kind == "customers" else Permission.PRODUCT_WRITE)
        if upload is None or not upload.filename:
            return page(request, "admin/imports.html", status_code=400, report=None, error="choose a CSV or XLSX file")
        content = upload.file.read(MAX_IMPORT_BYTES + 1)
        if len(content) > MAX_IMPORT_BYTES:
            return page(request, "admin/imports.html", status_code=413, report=None, error="the file is over 10 MiB")
        currency = crm.ctx.config.default_currency
        report: ImportReport
        try:
            if kind == "customers":
                rows = file_rows(content, set(CustomerImport.REQUIRED), upload.filename)
                report = import_rows(rows, CustomerImport(crm, actor, currency, upload.filename))
            else:
                rows = file_rows(content, set(ProductImport.REQUIRED), upload.filename)
                handler = ProductImport(crm, actor, currency)
                report = import_rows(rows, handler, finish=handler.finish)
                # the API's cached catalogue answers are stale now (on the app's event loop: its store lives there)
                from_thread.run(
                    new_catalogue_version, request.app.response_cache_config.get_store_from_app(request.app)
                )
        except ValidationFailed as exc:
            return page(request, "admin/imports.html", status_code=400, report=None, error=exc.message)
        return page(request, "admin/imports.html", report=report, kind=kind, filename=upload.filename)


def _next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"

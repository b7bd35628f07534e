from decimal import Decimal

from crm_domain.app import Crm
from crm_domain.money import Money
from crm_domain.orders import LineRequest, OrderStatus
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Role


class TestOrderDay:
    def test_hold_is_released_when_a_cancel_frees_credit(self, crm: Crm) -> None:
        admin = crm.users.create_admin("9876543210", "Asha Admin").actor()
        rep = crm.users.create(
            admin, NewUser(mobile="+919876500001", name="Ravi Rep", roles=frozenset({Role.SALES_REP}))
        ).actor()
        customer = crm.customers.create(
            admin,
            NewCustomer(
                code="D001",
                name="Dealer One",
                mobile="9876511111",
                credit_limit=Money.of("10000.00", "INR"),
                assigned_rep_id=rep.id,
            ),
        ).customer
        crm.catalogue.create(
            admin, NewProduct(sku="P1", name="Pump", unit_price=Money.of("420.00", "INR"), tax_rate=Decimal(18))
        )
        first = crm.orders.create(
            rep, NewOrder(customer_id=customer.id, lines=(LineRequest(sku="P1", quantity="10"),), submit=True)
        )
        second = crm.orders.create(
            rep, NewOrder(customer_id=customer.id, lines=(LineRequest(sku="P1", quantity="15"),), submit=True)
        )
        assert first.status is OrderStatus.SUBMITTED
        assert first.total == Money.of("4956.00", "INR")
        assert second.status is OrderStatus.ON_CREDIT_HOLD

        crm.orders.cancel(rep, first.id, "dealer changed their mind")

        assert crm.orders.get(rep, second.id).status is OrderStatus.SUBMITTED
        assert crm.credit.position(rep, customer.id).exposure == Money.of("7434.00", "INR")

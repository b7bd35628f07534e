"""Exact line and order totals (SPEC §2.4).

line net = round(quantity × unit_price × (1 − discount/100)); line tax = round(net × tax_rate/100);
line total = net + tax; order total = Σ line totals; round = ROUND_HALF_UP to the minor unit.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from crm_domain.money import Money

_HUNDRED = Decimal(100)


@attrs.frozen
class LineAmounts:
    net: Money
    tax: Money
    total: Money


def price_line(quantity: Decimal, unit_price: Money, discount_pct: Decimal, tax_rate: Decimal) -> LineAmounts:
    currency = unit_price.currency
    gross = quantity * unit_price.amount
    net = Money.rounded(gross * (_HUNDRED - discount_pct) / _HUNDRED, currency)
    tax = Money.rounded(net.amount * tax_rate / _HUNDRED, currency)
    return LineAmounts(net=net, tax=tax, total=net + tax)

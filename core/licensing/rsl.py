"""Reading an RSL 1.0 (Really Simple Licensing) document into a price."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ..sources import MAX_PRICE_CENTS

__all__ = ["RslError", "RslTerms", "parse_rsl", "price_cents"]

NAMESPACE = "https://rslstandard.org/rsl"


class RslError(ValueError):
    """The document exists but is not RSL we can read."""


@dataclass(frozen=True, slots=True)
class RslTerms:
    payment_type: str
    price_cents: int
    currency: str


def _child(element: Element, name: str) -> Element | None:
    # Documents in the wild sometimes omit the namespace; accept both spellings.
    found = element.find(f"{{{NAMESPACE}}}{name}")
    return found if found is not None else element.find(name)


def _children(element: Element, name: str) -> list[Element]:
    return element.findall(f"{{{NAMESPACE}}}{name}") or element.findall(name)


def parse_rsl(document: bytes, page_url: str) -> RslTerms:
    """The terms of the `<content>` whose url best covers `page_url` (else the first).

    defusedxml refuses entity expansion and external entities: the document comes
    from a host we do not control.
    """
    try:
        root = fromstring(document)
    except (ParseError, DefusedXmlException) as exc:
        raise RslError(f"not well-formed XML: {exc}") from None
    if root.tag not in (f"{{{NAMESPACE}}}rsl", "rsl"):
        raise RslError(f"root element is {root.tag!r}, not rsl")
    contents = _children(root, "content")
    if not contents:
        raise RslError("no <content> element")
    content = max(contents, key=lambda element: _coverage(element.get("url", ""), page_url))
    license = _child(content, "license")
    payment = _child(license, "payment") if license is not None else None
    if payment is None:
        raise RslError("no <license><payment> element")
    payment_type = payment.get("type", "purchase")
    amount = _child(payment, "amount")
    if payment_type in ("free", "attribution") and amount is None:
        return RslTerms(payment_type, 0, "USD")
    if amount is None or not (amount.text or "").strip():
        raise RslError("payment without an <amount>")
    cents = price_cents(amount.text)
    if cents is None:
        raise RslError(f"amount {amount.text.strip()[:40]!r} is not a price")
    return RslTerms(payment_type, cents, amount.get("currency", "USD").upper()[:8])


def price_cents(amount: str) -> int | None:
    """A decimal amount of money as whole cents, rounded up so a price is never under-reported;
    None for anything that is not a plausible price."""
    try:
        value = Decimal(amount.strip())
        if not value.is_finite() or value < 0:
            return None
        cents = math.ceil(value * 100)
    except ArithmeticError:  # InvalidOperation and Overflow both
        return None
    return cents if cents <= MAX_PRICE_CENTS else None


def _coverage(pattern: str, page_url: str) -> int:
    """How much of `page_url` a content url covers: the longest matching prefix wins."""
    prefix = pattern.split("*", 1)[0]
    if prefix.startswith("/"):
        path_start = page_url.find("/", page_url.find("//") + 2)
        page = page_url[path_start:] if path_start >= 0 else "/"
    else:
        page = page_url
    return len(prefix) if page.startswith(prefix) else -1

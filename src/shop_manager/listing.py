"""What the product list shows for its query string: the search, the stock
and expiry filters and the sort. The list page and the CSV export both ask
here, so the exported file always matches the page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shop_manager.models import Product, ProductQuerySet

__all__ = ["DEFAULT_SORT", "FILTERS", "SORTS", "Listing"]

# ?sort= values the list accepts; anything else falls back to the default.
SORTS: dict[str, list[str]] = {
    "name": ["name", "pk"],
    "-name": ["-name", "-pk"],
    "price": ["price", "name", "pk"],
    "-price": ["-price", "name", "pk"],
    "quantity": ["quantity", "name", "pk"],
    "-quantity": ["-quantity", "name", "pk"],
    "expiry_date": ["expiry_date", "name", "pk"],
    "-expiry_date": ["-expiry_date", "name", "pk"],
    "modified": ["modified", "pk"],
    "-modified": ["-modified", "-pk"],
}
DEFAULT_SORT = "name"
# ?stock= and ?expiry= values, each the queryset method that filters by it.
FILTERS: dict[str, dict[str, Callable[[ProductQuerySet], ProductQuerySet]]] = {
    "stock": {"low": ProductQuerySet.low_stock},
    "expiry": {
        "expired": ProductQuerySet.expired,
        "expiring": ProductQuerySet.expiring_soon,
    },
}


@dataclass(frozen=True)
class Listing:
    """One list's choices, each already checked ("" for no filter)."""

    query: str = ""
    sort: str = DEFAULT_SORT
    stock: str = ""
    expiry: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Listing:
        """The choices in a query string; anything unknown counts as none."""
        sort = params.get("sort", DEFAULT_SORT)
        stock, expiry = params.get("stock", ""), params.get("expiry", "")
        return cls(
            query=params.get("q", "").strip(),
            sort=sort if sort in SORTS else DEFAULT_SORT,
            stock=stock if stock in FILTERS["stock"] else "",
            expiry=expiry if expiry in FILTERS["expiry"] else "",
        )

    def products(self, *, with_costs: bool) -> ProductQuerySet:
        """The listed products, with their stock flags (``with_costs``: the
        search looks in the supplier number too)."""
        products = Product.objects.search(
            self.query, with_costs=with_costs
        ).with_stock_flags()
        for name, value in (("stock", self.stock), ("expiry", self.expiry)):
            if value:
                products = FILTERS[name][value](products)
        return products.order_by(*SORTS[self.sort])

"""Tools over the business database: catalogue and orders (the agenda: `appointments`).

Each tool is bound at build time to the turn's domain (and its timezone) and
opens its own short transaction; the model only chooses the arguments (a search
phrase, a SKU, an order number, a professional), never whose data it reads.
Errors a customer can cause (a malformed order number, an unknown SKU)
come back as text the agent can relay, not as exceptions. Each call also records
its answer as data on the turn's context (`OrderData`, `ProductsData`), which the
offline model answers from.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crewai.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.crews.tools.guard import records_failures
from hub.exceptions import StoreError
from hub.ownership import disclosure
from hub.store.database import session_scope
from hub.store.models import Product
from hub.store.orders import normalize_order_number, order_by_number
from hub.store.products import product_by_sku, search_products
from hub.turn import OrderData, ProductData, ProductsData, ToolData, ToolResult, TurnContext

ORDER_STATUS_PT = {
    "awaiting_payment": "aguardando pagamento",
    "paid": "pago",
    "out_for_delivery": "saiu para entrega",
    "delivered": "entregue",
    "cancelled": "cancelado",
}


def reais(value: Decimal) -> str:
    """69.9 → "R$ 69,90" (Brazilian separators)."""
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def describe(product: Product) -> str:
    """One line a customer can read: SKU, name, price, availability."""
    if product.stock > 0:
        availability = f"em estoque ({product.stock} unidades)"
    else:
        availability = "sem estoque" + (f"; {product.restock_note}" if product.restock_note else "")
    return f"{product.sku} — {product.name} — {reais(product.price)} — {availability}"


def product_data(product: Product) -> ProductData:
    """A catalogue row as a tool result's item (read inside the session)."""
    return ProductData(
        sku=product.sku,
        name=product.name,
        price=product.price,
        stock=product.stock,
        line=describe(product),
        restock_note=product.restock_note or "",
    )


class BusinessTool(BaseTool):
    """A tool over the business database, bound to one turn's domain and its time zone."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine
    context: TurnContext
    timezone: str = "America/Sao_Paulo"

    def _returned(self, data: ToolData, text: str) -> str:
        """Record the call's typed result on the turn's context; return its text."""
        self.context.returned(ToolResult(self.name, data, text))
        return text


class SearchArgs(BaseModel):
    query: str = Field(description="palavras do produto: nome, tipo, uso")


class ProductSearchTool(BusinessTool):
    name: str = "product_search"
    description: str = "Procura produtos do catálogo por palavras; devolve preço e estoque."
    args_schema: type[BaseModel] = SearchArgs

    @records_failures(SQLAlchemyError)
    def _run(self, query: str, **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        with session_scope(self.engine) as session:
            found = search_products(session, self.context.domain_id, query, limit=5)
            items = tuple(product_data(product) for product in found)
        text = "\n".join(item.line for item in items)
        return self._returned(
            ProductsData(query, items),
            text or "Nenhum produto do catálogo corresponde a essa busca.",
        )


class SkuArgs(BaseModel):
    sku: str = Field(description="o código do produto, como BP-002")


class ProductLookupTool(BusinessTool):
    name: str = "product_lookup"
    description: str = "Detalhes de um produto pelo código (SKU): preço, estoque, reposição."
    args_schema: type[BaseModel] = SkuArgs

    @records_failures(SQLAlchemyError)
    def _run(self, sku: str, **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        with session_scope(self.engine) as session:
            product = product_by_sku(session, self.context.domain_id, sku)
            items = (product_data(product),) if product else ()
        text = items[0].line if items else f"Não há produto com o código {sku}."
        return self._returned(ProductsData(sku, items), text)


class OrderArgs(BaseModel):
    order_number: str = Field(description="o número do pedido informado pelo cliente")
    contact: str = Field(
        default="",
        description=(
            "o telefone ou o e-mail da compra, se o cliente o informou para confirmar "
            "que o pedido é dele"
        ),
    )


class OrderStatusTool(BusinessTool):
    name: str = "order_status"
    description: str = (
        "Status de um pedido pelo número (formato CC-2026-00017); os detalhes só são "
        "informados ao cliente do pedido (telefone ou e-mail da compra)."
    )
    args_schema: type[BaseModel] = OrderArgs

    @records_failures(SQLAlchemyError)
    def _run(self, order_number: str, contact: str = "", **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        try:
            number = normalize_order_number(order_number)
        except StoreError as error:
            return self._returned(
                OrderData(order_number, found=False),
                f"Número de pedido inválido: {error}. Peça o número completo ao cliente.",
            )
        with session_scope(self.engine) as session:
            order = order_by_number(session, self.context.domain_id, number)
            if order is None:
                return self._returned(
                    OrderData(number, found=False), f"Não encontrei o pedido {number}."
                )
            told = disclosure(
                order.number,
                self.context,
                phones=(order.customer_phone,),
                emails=(order.customer_email,),
                stated=contact,
            )
            status = ORDER_STATUS_PT.get(order.status, order.status)
            data = OrderData(order.number, found=True, status=status, note=order.note or "")
        if not told.allowed:
            if told.handoff_reason is not None:
                self.context.handoff_reason = told.handoff_reason
            unverified = OrderData(data.number, found=True, verified=False)
            return self._returned(unverified, told.refusal)
        return self._returned(data, f"Pedido {data.number}: {status}. {data.note}".strip())

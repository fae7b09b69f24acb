"""The Odoo connector: products, sale orders and calendar bookings over JSON-RPC.

Odoo's external API (`POST /jsonrpc`): `common.login(db, user, password)` gives a
user id, then `object.execute_kw(db, uid, password, model, method, args, kwargs)`
runs a model method. An error comes back as a JSON-RPC `error` object (HTTP
200), which becomes a JSONRPCError; a refused login, an ExternalAuthError. Tools
are bound to one domain's Odoo and answer in text the agent can relay (an order's
details only to its customer: `hub.ownership`); products
and orders are also recorded as data on the turn's context (`ProductsData`,
`OrderData` of `hub.turn`), a booking as text only.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from crewai.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from hub.exceptions import ExternalAuthError, ExternalSystemError, JSONRPCError
from hub.ownership import disclosure
from hub.turn import OrderData, ProductData, ProductsData, ToolData, ToolResult, TurnContext
from plugins.connectors.settings import Odoo
from plugins.connectors.transport import json_of, send, shared_client

ORDER_STATES = {
    "draft": "orçamento",
    "sent": "orçamento enviado",
    "sale": "confirmado",
    "done": "concluído",
    "cancel": "cancelado",
}
"""sale.order `state` values as the customer reads them."""

_AUTH_ERRORS = ("AccessDenied", "odoo.exceptions.AccessDenied")
_ids = itertools.count(1)


class OdooClient:
    """One Odoo database, one user; the login is made once and reused."""

    def __init__(self, settings: Odoo, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.url = os.environ.get(settings.url_env, "").rstrip("/") + "/jsonrpc"
        self.username = os.environ.get(settings.username_env, "")
        self.password = os.environ.get(settings.password_env, "")
        self.client = client or shared_client()
        self._uid: int | None = None
        self._lock = threading.Lock()

    def rpc(self, service: str, method: str, args: list[Any]) -> Any:
        """One JSON-RPC call; its `result`, or JSONRPCError with the server's message."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(_ids),
        }
        response = send(
            self.client,
            "POST",
            self.url,
            json=payload,
            timeout=self.settings.timeout_seconds,
            max_bytes=self.settings.max_response_bytes,
            retries=self.settings.retries,
            backoff_seconds=self.settings.backoff_seconds,
            what="odoo",
        )
        body = json_of(response, "odoo")
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            data = error.get("data") or {}
            name, message = data.get("name", ""), data.get("message") or error.get("message")
            if name in _AUTH_ERRORS:
                raise ExternalAuthError(f"odoo: {message}")
            raise JSONRPCError(f"odoo: {message} ({name or error.get('code')})")
        return body.get("result") if isinstance(body, dict) else None

    def uid(self) -> int:
        """The user id of the configured login (raises ExternalAuthError when refused)."""
        with self._lock:
            if self._uid is None:
                uid = self.rpc(
                    "common", "login", [self.settings.database, self.username, self.password]
                )
                if not isinstance(uid, int) or isinstance(uid, bool):
                    raise ExternalAuthError("odoo: login refused (check user and password)")
                self._uid = uid
            return self._uid

    def execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        call = [
            self.settings.database,
            self.uid(),
            self.password,
            model,
            method,
            args,
            kwargs or {},
        ]
        try:
            return self.rpc("object", "execute_kw", call)
        except ExternalAuthError:
            with self._lock:
                self._uid = None  # a password changed since the login: log in again next time
            raise

    # What the tools ask ------------------------------------------------------

    def products(self, query: str, limit: int = 5) -> list[dict[str, Any]]:
        domain = ["|", ["default_code", "=ilike", query.strip()], ["name", "ilike", query.strip()]]
        fields = ["name", "default_code", "list_price", "qty_available"]
        found = self.execute_kw(
            "product.product", "search_read", [domain], {"fields": fields, "limit": limit}
        )
        return list(found or [])

    def order(self, name: str) -> dict[str, Any] | None:
        fields = ["name", "state", "date_order", "amount_total", "commitment_date", "partner_id"]
        found = self.execute_kw(
            "sale.order",
            "search_read",
            [[["name", "=", name.strip().upper()]]],
            {"fields": fields, "limit": 1},
        )
        return found[0] if found else None

    def contacts(self, order: dict[str, Any]) -> tuple[list[str], list[str]]:
        """The phones (phone, mobile) and e-mails of the order's customer (`partner_id`)."""
        partner = order.get("partner_id")
        partner_id = partner[0] if isinstance(partner, list) and partner else partner
        if not isinstance(partner_id, int) or isinstance(partner_id, bool):
            return [], []
        found = self.execute_kw(
            "res.partner", "read", [[partner_id]], {"fields": ["phone", "mobile", "email"]}
        )
        rows = [row for row in found or [] if isinstance(row, dict)]
        phones = [str(row[key]) for row in rows for key in ("phone", "mobile") if row.get(key)]
        emails = [str(row["email"]) for row in rows if row.get("email")]
        return phones, emails

    def busy(self, start: datetime, stop: datetime) -> bool:
        domain = [["start", "<", _utc(stop)], ["stop", ">", _utc(start)]]
        return bool(self.execute_kw("calendar.event", "search_count", [domain]))

    def book(self, subject: str, start: datetime, stop: datetime) -> int:
        values = {"name": subject, "start": _utc(start), "stop": _utc(stop)}
        created = self.execute_kw("calendar.event", "create", [values])
        return int(created[0] if isinstance(created, list) else created)


def _utc(moment: datetime) -> str:
    """Odoo stores datetimes as naive UTC strings."""
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def reais(value: Any) -> str:
    text = f"{Decimal(str(value)):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


class OdooTool(BaseTool):
    """A tool over one domain's Odoo, bound to the turn."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    odoo: OdooClient
    context: TurnContext
    timezone: str = "America/Sao_Paulo"

    def _guarded(self, work: Callable[[], tuple[ToolData | None, str]]) -> str:
        """Run `work` (its data and text), record the result on the turn's context, and
        return the text; an ERP failure is recorded as one and told as text."""
        self.context.tool_calls.append(self.name)
        try:
            data, text = work()
        except ExternalSystemError as error:
            self.context.failed(self.name, error)  # the turn hands off: the data is missing
            data, text = None, f"Não consegui consultar o ERP agora ({error})."
        self.context.returned(ToolResult(self.name, data, text))
        return text


class ProductQuery(BaseModel):
    query: str = Field(description="o código (referência interna) ou parte do nome do produto")


class ProductLookupTool(OdooTool):
    description: str = "Produtos no ERP (Odoo) por código ou nome: preço e quantidade em estoque."
    args_schema: type[BaseModel] = ProductQuery

    def _run(self, query: str, **_: Any) -> str:
        def work() -> tuple[ToolData, str]:
            items = tuple(_product(p) for p in self.odoo.products(query))
            text = "\n".join(item.line for item in items)
            return ProductsData(query, items), text or (
                f"Nenhum produto do ERP corresponde a {query!r}."
            )

        return self._guarded(work)


def _product(found: dict[str, Any]) -> ProductData:
    """A product.product record as a tool result's item."""
    quantity = found.get("qty_available") or 0
    stock = int(quantity)
    availability = f"em estoque ({stock} unidades)" if quantity > 0 else "sem estoque"
    code = found.get("default_code") or ""
    price = Decimal(str(found["list_price"]))
    line = f"{code or '-'} — {found['name']} — {reais(price)} — {availability}"
    return ProductData(sku=code, name=found["name"], price=price, stock=stock, line=line)


class OrderQuery(BaseModel):
    order_name: str = Field(description="o número do pedido de venda no ERP, como S00042")
    contact: str = Field(
        default="",
        description=(
            "o telefone ou o e-mail da compra, se o cliente o informou para confirmar "
            "que o pedido é dele"
        ),
    )


class OrderStatusTool(OdooTool):
    description: str = (
        "Situação de um pedido de venda no ERP (Odoo) pelo número, como S00042; os detalhes "
        "só são informados ao cliente do pedido (telefone ou e-mail do cadastro)."
    )
    args_schema: type[BaseModel] = OrderQuery

    def _run(self, order_name: str, contact: str = "", **_: Any) -> str:
        def work() -> tuple[ToolData, str]:
            order = self.odoo.order(order_name)
            number = order_name.strip().upper()
            if order is None:
                return OrderData(number, found=False), f"Não encontrei o pedido {number} no ERP."
            phones, emails = self.odoo.contacts(order)
            told = disclosure(
                order["name"], self.context, phones=phones, emails=emails, stated=contact
            )
            if not told.allowed:
                if told.handoff_reason is not None:
                    self.context.handoff_reason = told.handoff_reason
                return OrderData(order["name"], found=True, verified=False), told.refusal
            state = ORDER_STATES.get(order["state"], order["state"])
            note = f"Total {reais(order['amount_total'])}."
            if order.get("commitment_date"):
                note += f" Entrega prevista: {order['commitment_date']}."
            data = OrderData(order["name"], found=True, status=state, note=note)
            return data, f"Pedido {data.number}: {state}. {note}"

        return self._guarded(work)


class BookingRequest(BaseModel):
    starts_at: str = Field(description="data e hora locais no formato AAAA-MM-DD HH:MM")
    subject: str = Field(description="o que será feito (ex.: montagem do rack)")


class BookingTool(OdooTool):
    description: str = (
        "Agenda um horário no calendário do ERP (Odoo), se estiver livre. "
        "Data e hora locais no formato AAAA-MM-DD HH:MM."
    )
    args_schema: type[BaseModel] = BookingRequest
    minutes: int = 30

    def _run(self, starts_at: str, subject: str, **_: Any) -> str:
        try:
            start = datetime.strptime(starts_at.strip(), "%Y-%m-%d %H:%M").replace(
                tzinfo=ZoneInfo(self.timezone)
            )
        except ValueError:
            self.context.tool_calls.append(self.name)
            return "Data inválida: use AAAA-MM-DD HH:MM (por exemplo 2026-12-03 14:00)."
        stop = start + timedelta(minutes=self.minutes)
        who = self.context.customer_name or "cliente"

        def work() -> tuple[None, str]:  # no typed shape fits an ERP calendar event
            if self.odoo.busy(start, stop):
                busy = f"O horário {start:%d/%m/%Y %H:%M} já está ocupado; peça outro ao cliente."
                return None, busy
            event = self.odoo.book(f"{subject} — {who}", start, stop)
            return None, (
                f"Agendado: {subject} em {start:%d/%m/%Y às %H:%M} para {who} (evento {event})."
            )

        return self._guarded(work)


def odoo_tools(
    odoo: OdooClient, settings: Odoo, context: TurnContext, timezone: str, wanted: set[str]
) -> list[BaseTool]:
    """The configured Odoo tools whose names are in `wanted`."""
    classes: dict[str, type[OdooTool]] = {
        "product_lookup": ProductLookupTool,
        "order_status": OrderStatusTool,
        "booking": BookingTool,
    }
    tools: list[BaseTool] = []
    for kind in settings.tools:
        name = f"{settings.prefix}_{kind}"
        if name in wanted:
            extra: dict[str, Any] = (
                {"minutes": settings.booking_minutes} if kind == "booking" else {}
            )
            tools.append(
                classes[kind](name=name, odoo=odoo, context=context, timezone=timezone, **extra)
            )
    return tools

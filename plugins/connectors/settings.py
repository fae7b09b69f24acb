"""What a domain sets under `plugins.connectors`: HTTP endpoints and an Odoo ERP.

Secrets never live in YAML: every URL, user, password, token and key is the
*name* of an environment variable, as for the domain's Chatwoot token. A domain
may name only its own variables, `CHATWOOTAI_<DOMAIN>_…` (the id upper-cased,
`-` as `_`), or those the deployment lists in `CHATWOOTAI_CONNECTOR_ENV_ALLOWED`;
never one of the deployment's own settings (`CHATWOOTAI_CHATWOOT_TOKEN`…) nor one
under a longer domain id's prefix (`CHATWOOTAI_SHOP_SP_…` is `shop_sp`'s, not
`shop`'s). A connector's credentials therefore cannot be another tenant's.
"""

from __future__ import annotations

import os
import string
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from hub.defaults import CONNECTOR_MAX_RESPONSE_BYTES, ENV_PREFIX
from hub.domains.schema import EnvVarName, Identifier, Text
from hub.plugins import PluginSettings
from hub.settings import Settings, get_settings


def env_prefix(domain_id: str) -> str:
    """`CHATWOOTAI_RETAIL_` for `retail`: the variables a domain's connectors may name."""
    return f"{ENV_PREFIX}{domain_id.lstrip('_').upper().replace('-', '_')}_"


DEPLOYMENT_VARIABLES = frozenset(f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields)
"""The deployment's own settings (tokens, secrets, URLs): no connector may send them."""


def allowed_variables() -> frozenset[str]:
    """The variables the deployment lets every domain's connectors name."""
    listed = get_settings().connector_env_allowed or ""
    return frozenset(name.strip() for name in listed.split(",") if name.strip())


def _owned(name: str, info: ValidationInfo) -> str:
    """Refuse a variable the domain being validated may not name (see the module doc)."""
    if name in DEPLOYMENT_VARIABLES:
        raise ValueError(
            f"{name} is one of the deployment's own settings; a connector may not name it"
        )
    context = info.context or {}
    domain_id = context.get("domain_id")
    if domain_id is None or name in allowed_variables():
        return name
    own = env_prefix(domain_id)
    if not name.startswith(own):
        raise ValueError(
            f"a connector of domain {domain_id!r} may name only variables starting with "
            f"{own} (or listed in {ENV_PREFIX}CONNECTOR_ENV_ALLOWED), not {name}"
        )
    for other in context.get("domain_ids") or ():
        theirs = env_prefix(other)
        if other != domain_id and len(theirs) > len(own) and name.startswith(theirs):
            raise ValueError(f"{name} belongs to domain {other!r} ({theirs}…)")
    return name


ConnectorEnv = Annotated[EnvVarName, AfterValidator(_owned)]
"""An environment variable a connector reads: one the domain may name."""

AgentRef = str
"""`crew.agent` (e.g. `support.atendente`): an agent that gets a tool without listing it."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Auth(Strict):
    """How requests authenticate: none, a bearer token, HTTP basic, or an API key."""

    type: Literal["none", "bearer", "basic", "api_key"] = "none"
    token_env: ConnectorEnv | None = None
    username_env: ConnectorEnv | None = None
    password_env: ConnectorEnv | None = None
    key_env: ConnectorEnv | None = None
    header: str = "X-API-Key"
    """api_key: the header that carries the key (unless `query_param` is set)."""
    query_param: str | None = None
    """api_key: send the key as this query parameter instead of a header."""

    @model_validator(mode="after")
    def _needs(self) -> Auth:
        needed = {
            "bearer": ["token_env"],
            "basic": ["username_env", "password_env"],
            "api_key": ["key_env"],
            "none": [],
        }[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth type {self.type!r} needs {', '.join(missing)}")
        return self


class Param(Strict):
    """One argument of the tool, filled by the agent."""

    description: Text
    required: bool = True


class Mapping(Strict):
    """How a JSON answer becomes the text the agent reads.

    `fields` name values by JSON path (`data.order.status`, `items[0].name`);
    `template` places them (`Pedido {number}: {status}`). With `many`, a path to a
    list, the template is applied to each item (paths relative to the item).
    """

    fields: dict[Identifier, str] = Field(min_length=1)
    template: Text
    many: str | None = None
    empty: Text = "Nada encontrado."

    @model_validator(mode="after")
    def _template_uses_fields(self) -> Mapping:
        used = {name for _, name, _, _ in string.Formatter().parse(self.template) if name}
        unknown = sorted(used - set(self.fields))
        if unknown:
            raise ValueError(f"template uses {', '.join(unknown)}, which are not in fields")
        return self


class Endpoint(Strict):
    """One HTTP endpoint, which becomes one agent tool named `name`."""

    name: Identifier
    description: Text
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    base_url_env: ConnectorEnv
    """The variable holding the API's base URL (`https://api.example.com/v1`)."""
    path: str = Field(pattern=r"^/")
    """Appended to the base URL; `{param}` placeholders are filled from the arguments."""
    params: dict[Identifier, Param] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    """Fixed query parameters sent with every request."""
    auth: Auth = Field(default_factory=Auth)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """The whole call's budget, retries and backoff included."""
    retries: int = Field(default=2, ge=0, le=5)
    """Further attempts after a network error, a timeout or a 5xx answer, while the
    budget lasts."""
    max_response_bytes: int = Field(default=CONNECTOR_MAX_RESPONSE_BYTES, gt=0, le=16 * 2**20)
    """An answer longer than this (decompressed) is refused."""
    backoff_seconds: float = Field(default=0.3, ge=0, le=10)
    """Wait before the first retry, doubling at each one."""
    response: Mapping
    agents: list[AgentRef] = Field(default_factory=list)

    def missing_env(self) -> list[str]:
        """The environment variables this endpoint needs that are not set."""
        auth = self.auth
        names = [
            self.base_url_env,
            auth.token_env,
            auth.username_env,
            auth.password_env,
            auth.key_env,
        ]
        return [name for name in names if name and not os.environ.get(name)]

    @model_validator(mode="after")
    def _path_placeholders_are_params(self) -> Endpoint:
        used = {name for _, name, _, _ in string.Formatter().parse(self.path) if name}
        unknown = sorted(used - set(self.params))
        if unknown:
            raise ValueError(f"path uses {', '.join(unknown)}, which are not in params")
        return self


OdooTool = Literal["product_lookup", "order_status", "booking"]


class Odoo(Strict):
    """An Odoo ERP over JSON-RPC (`/jsonrpc`): products, sale orders, calendar bookings."""

    url_env: ConnectorEnv
    """The variable holding Odoo's base URL (`https://erp.example.com`)."""
    database: Text
    username_env: ConnectorEnv
    password_env: ConnectorEnv
    """The variable holding the user's password or API key."""
    tools: list[OdooTool] = Field(default_factory=lambda: ["product_lookup", "order_status"])
    prefix: Identifier = "odoo"
    """Tool names are `<prefix>_<tool>` (`odoo_order_status`)."""
    agents: list[AgentRef] = Field(default_factory=list)
    booking_minutes: int = Field(default=30, ge=5, le=480)
    timeout_seconds: float = Field(default=8.0, gt=0, le=60)
    """Each JSON-RPC call's budget (the login is one call), retries included."""
    retries: int = Field(default=2, ge=0, le=5)
    backoff_seconds: float = Field(default=0.3, ge=0, le=10)
    max_response_bytes: int = Field(default=CONNECTOR_MAX_RESPONSE_BYTES, gt=0, le=16 * 2**20)

    def tool_names(self) -> list[str]:
        return [f"{self.prefix}_{tool}" for tool in self.tools]

    def missing_env(self) -> list[str]:
        """The environment variables the connection needs that are not set."""
        names = (self.url_env, self.username_env, self.password_env)
        return [name for name in names if not os.environ.get(name)]


class ConnectorSettings(PluginSettings):
    """Every external system one domain reaches; each becomes tools for its agents."""

    timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    http: list[Endpoint] = Field(default_factory=list)
    odoo: Odoo | None = None

    @model_validator(mode="after")
    def _unique_tool_names(self) -> ConnectorSettings:
        names = [endpoint.name for endpoint in self.http]
        names += self.odoo.tool_names() if self.odoo else []
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"tool names repeated: {', '.join(repeated)}")
        return self

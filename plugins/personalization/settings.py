"""What a domain sets under `plugins.personalization`."""

from __future__ import annotations

from pydantic import Field

from hub.plugins import PluginSettings


class PersonalizationSettings(PluginSettings):
    """Greeting, name, tone, signature and channel limits of one business's replies."""

    greeting: bool = True
    """Greet by the local time of day ("Bom dia, Maria!") on the first reply of a conversation."""
    tone: str | None = Field(default=None, min_length=1)
    """How the business speaks, told to the crew ("acolhedor, sem gírias, no máximo um emoji")."""
    signature: str | None = Field(default=None, min_length=1)
    """Appended to every reply after a blank line ("Equipe Bela Pele")."""
    max_length: int = Field(default=1000, ge=100, le=4096)
    """The longest message posted on the channels below; longer replies are split."""
    split_channels: list[str] = Field(default_factory=lambda: ["Channel::Whatsapp"])
    """Chatwoot channel types whose replies are split at `max_length`."""

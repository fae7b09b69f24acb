"""Local stand-ins for the services we talk to: Chatwoot, an OpenAI-compatible model."""

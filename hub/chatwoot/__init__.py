"""Chatwoot: the webhook payloads it sends us, their signatures, and the API we answer through."""

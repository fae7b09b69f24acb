"""Conversation state shared by receivers and workers, kept in Redis."""

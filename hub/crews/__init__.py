"""Crews: building CrewAI agents, tasks and crews from domain YAML, and running them."""

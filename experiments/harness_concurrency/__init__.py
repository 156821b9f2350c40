"""Decisions per second of the OpenAI-compatible agent in the harness at several concurrencies."""

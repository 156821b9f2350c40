"""Reusable fault injection for the tests: one module per fault (processes killed, a repository flipped, ...)."""

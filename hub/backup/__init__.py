"""Backups of a running hub: one file with the graph and the Redis state it needs; restore."""

"""graph.exchange package."""

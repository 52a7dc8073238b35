"""graph.records package."""

"""graph.archive package."""

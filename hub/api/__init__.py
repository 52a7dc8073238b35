"""hub.api package."""

"""hub.documents package."""

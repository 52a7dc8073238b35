"""hub.cli package."""

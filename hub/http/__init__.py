"""hub.http package."""

"""Authentication: bearer tokens verified into a principal, before any endpoint runs."""

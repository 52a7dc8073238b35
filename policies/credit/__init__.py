"""policies.credit package."""

"""The rules, pure: who sees what, limits, issuers, divisions, units, working days, loading."""

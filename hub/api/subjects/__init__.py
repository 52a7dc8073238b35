"""Credit subjects over GraphQL: their types, the mapping of graph rows onto them, the lookups."""

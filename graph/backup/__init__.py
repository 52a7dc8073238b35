"""A logical copy of the whole graph: read out consistently, written back into an empty store."""

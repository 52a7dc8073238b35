"""Industry associations in the graph: the membership the department records, what an
association reads of its members, and the self-discipline actions it files through review."""

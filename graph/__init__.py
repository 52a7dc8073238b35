"""Neo4j: the store handle, migrations, identifiers, and every query and write of the hub."""

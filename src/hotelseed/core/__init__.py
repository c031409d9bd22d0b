"""Domain-free machinery: random streams, ids, tables as columns, database access, bulk loading."""

"""The analyzer: loads a log tree into DuckDB and answers questions about it (never writes it)."""

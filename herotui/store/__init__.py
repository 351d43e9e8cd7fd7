"""Per-context stores: DuckDB (truth), Tantivy (derived search index), blobs."""

"""Storage: the schema (``schema``), engines and migrations (``db``), writes (``repo``), search."""

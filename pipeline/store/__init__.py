"""Storage: the schema (``schema``), engines and migrations (``db``), writes (``repo``, which
gathers ``sources``, ``articles``, ``tags``, ``links``, ``runs``, ``outbox``, ``fetch_state``),
search."""

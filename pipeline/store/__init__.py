"""Storage: the schema (``schema``), engines and migrations (``db``, with the Alembic scripts in
``migrations/``), every write and lookup (``repo``, the one public API over ``sources``,
``articles``, ``tags``, ``links``, ``runs``, ``outbox`` and ``fetch_state``), and ``search``."""

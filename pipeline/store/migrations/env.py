"""Alembic environment: runs the migrations in ``db/versions`` against ``sqlalchemy.url``.

Configured in code by ``pipeline.store.db.alembic_config``; the engine comes from
``pipeline.store.db.make_engine`` so SQLite gets the same pragmas as the application.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from pipeline.store.db import make_engine
from pipeline.store.schema import Base, is_search_object

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the full-text search objects, which only the migration defines, out of comparisons."""
    return not is_search_object(name, type_)


def run_migrations_offline() -> None:
    """Emit the migration SQL without a database connection (``--sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        include_object=include_object,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection (given by the caller, or opened here)."""
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

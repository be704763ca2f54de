"""Alembic environment for the store.

The store runs ``upgrade head`` itself at startup (:func:`services.store.db.migrate`) and hands over an
open connection. Other callers give a URL instead (``services.store.db.alembic_config(url)``).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from services.store.models import metadata

config = context.config


def _configure(**kwargs: Any) -> None:  # alembic's own keyword arguments (connection, url, ...)
    context.configure(target_metadata=metadata, compare_type=True, **kwargs)


def _run_with(connection: Connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables for later migrations.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run_with(given)
        return
    from services.store.db import make_engine

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url (services.store.db.alembic_config(url) does it)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run_with(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

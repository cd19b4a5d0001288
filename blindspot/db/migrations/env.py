"""Alembic environment of the operational store: run by :func:`blindspot.db.opstore.migrate`
on the connection it passes (``config.attributes["connection"]``), never with a URL of its
own, so the app, the CLI and the tests migrate exactly the store they opened."""

from alembic import context

from blindspot.db.opstore import metadata

connection = context.config.attributes["connection"]
# SQLite alters a table by copying it ("batch" mode); PostgreSQL alters in place.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

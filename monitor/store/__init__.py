"""Storage: schema, engines, migrations, the batched writer and the read queries."""

from monitor.store.db import (
    DatabaseError,
    make_engine,
    migrated_engine,
    normalise_url,
    session_factory,
    shown_url,
)
from monitor.store.migrate import upgrade

__all__ = [
    "DatabaseError",
    "make_engine",
    "migrated_engine",
    "normalise_url",
    "session_factory",
    "shown_url",
    "upgrade",
]

"""The state store: SQLAlchemy engine, table base, unit of work and Alembic migrations."""

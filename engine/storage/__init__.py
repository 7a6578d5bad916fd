"""Storage: SQLAlchemy models, the database handle (SQLite or PostgreSQL) and Alembic migrations."""

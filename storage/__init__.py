"""Storage: SQLAlchemy models, database set-up and data access."""

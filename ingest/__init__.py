"""Ingest: Kafka consumer, file backfill and the shared landing path into DuckDB."""

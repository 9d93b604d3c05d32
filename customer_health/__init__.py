"""customer-health: a streaming customer-health monitor (Kafka -> DuckDB -> health, margin, segments)."""

__version__ = "0.1.0"

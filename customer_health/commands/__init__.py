"""Subcommands of `customer-health`, one module per area."""

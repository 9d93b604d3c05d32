"""Churn models for non-contractual customers ("buy till you die"): see :mod:`customer_health.churn.bgnbd`."""

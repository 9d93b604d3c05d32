"""Data-quality suites as code (Great Expectations): one module per dataset exposing ``build_suite()``.

Batch suites validate the valid rows of every landed batch (scope ``batch``: rows failing a critical
expectation are quarantined); table suites validate stored tables on a schedule and on
``customer-health check`` (scope ``table``). Each expectation says in its ``meta["scopes"]`` where it
applies and in its ``severity`` whether it is critical.

The suite modules and the runner import Great Expectations (~3 s): import them only in a process that
validates, and through :mod:`expectations.runner`, which does it once per process.
"""

"""Errors a user can act on: the CLI prints their message as one line, without a traceback."""


class UserError(Exception):
    """Something outside the code was wrong (config, arguments, a file, an unreachable service)."""

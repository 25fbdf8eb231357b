"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """Bad input or a missing resource; the message names the problem and the fix."""

    exit_code = 2

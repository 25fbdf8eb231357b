"""Errors a user can fix. The CLI prints them as one line and exits with code 2; the daemon
answers them with /drumgrid/error and their `code`."""


class UserError(Exception):
    """Bad input or a missing resource; the message names the problem and the fix."""

    exit_code = 2
    code = "bad_request"


class MidiError(UserError):
    """A MIDI file or note list that cannot be read as a drum performance."""

    code = "bad_midi"


class UnknownKit(UserError):
    """A kit name the model was not trained on; the message lists the known ones."""

    code = "unknown_kit"


class TooLong(UserError):
    """A clip longer than the engine's configured maximum (a guard on memory and time)."""

    code = "too_long"


class Cancelled(UserError):
    """A render stopped because its caller asked (checked between windows and codec chunks)."""

    code = "cancelled"

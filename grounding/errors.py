"""Exception types. Every error a user can cause derives from GroundingError, so the CLI can turn it into one line."""


class GroundingError(Exception):
    """Base class: the message is written for the user, one line, no traceback needed."""


class ImageError(GroundingError, ValueError):
    """The image is missing, unreadable, empty or too large."""


class InstructionError(GroundingError, ValueError):
    """The instruction is empty or unusable."""


class UnknownModelError(GroundingError, KeyError):
    """No grounder is registered under that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OptionError(GroundingError, TypeError):
    """A grounder was given an option it does not take, or a bad value."""


class BackendError(GroundingError, RuntimeError):
    """A backend failed for a reason outside the caller's input: missing weights, dead endpoint, missing extra."""

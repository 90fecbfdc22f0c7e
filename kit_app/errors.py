"""Error taxonomy: errors a user can act on carry a translated message; anything else is a bug."""

from __future__ import annotations


class KitError(Exception):
    """An expected, user-facing failure. ``str(err)`` is a complete, translated sentence."""

    exit_code = 1
    refusal = False  # an action refused by the rules (roles, procedure): the access log records it


class UsageError(KitError):
    """The command was called wrongly (bad arguments, unknown ids given by the user)."""

    exit_code = 2


class NotFound(KitError):
    """What the user named does not exist."""


class ValidationError(KitError):
    """Input data is invalid; ``field`` names what is wrong."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PermissionDenied(KitError):
    """The acting officer's roles do not allow the action."""

    refusal = True


class ProtocolError(KitError, ValueError):
    """What an instrument or receiver sent cannot be trusted (HJ 212, NMEA 0183, Modbus, vendor
    ASCII); the message names what is wrong and where. Also a ValueError: a decoder's callers may
    treat it as bad input."""


class DeviceError(KitError):
    """A device or its port cannot be used (cannot be opened, went away, stays silent, wrongly
    configured); the message says which."""


class AuthenticationError(KitError):
    """Login refused (wrong credentials, locked or disabled account)."""


class DataDirTooNew(KitError):
    """The data dir was written by a newer version of the application."""

"""Errors a screen or an editor gets, each with a short Chinese sentence saying what to do."""


class ScreensError(Exception):
    """Base: ``str(error)`` is the sentence to show."""


class CredentialRefused(ScreensError):
    """A device's credential is missing, malformed, forged, or its device was revoked (the API answers 401)."""


class PairingRefused(ScreensError):
    """A pairing code is wrong, expired or used, or the editor typed too many wrong codes."""


class EmergencyRefused(ScreensError):
    """An emergency cannot be sent (bad times, another unit's channel) or a device's acknowledgement is refused:
    forged or tampered signature, expired or cancelled emergency. ``status``: the HTTP status the API answers."""

    def __init__(self, message, *, status: int = 400):
        super().__init__(message)
        self.status = status

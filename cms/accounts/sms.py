"""Sending a text message, behind a backend chosen by ``settings.SMS_BACKEND`` (a dotted path, like Django's
EMAIL_BACKEND). The default only writes the message to the log: the embedded default and the demo need no SMS
provider, and `manage.py check --deploy` warns when production still uses it. A provider's backend subclasses
``SMSBackend`` and implements ``send``."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

LOGGING_BACKEND = "cms.accounts.sms.LoggingSMSBackend"


class SMSBackend:
    """One way of delivering a text message to a Chinese mobile number (11 digits, no country code)."""

    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class LoggingSMSBackend(SMSBackend):
    """Delivers nothing: writes the message to the log, where an operator (or the demo's console) can read it."""

    def send(self, *, phone: str, text: str) -> None:
        logger.warning("短信（未接入短信服务，只写入日志）发往 %s：%s", phone, text)


def sms_available() -> bool:
    """Whether codes can be sent at all: production leaves ``SMS_BACKEND`` empty until a provider is configured,
    and then only the branch secretary's way back in is offered."""
    return bool(getattr(settings, "SMS_BACKEND", LOGGING_BACKEND))


def sms_backend() -> SMSBackend:
    return import_string(getattr(settings, "SMS_BACKEND", LOGGING_BACKEND))()


def sms_send(*, phone: str, text: str) -> None:
    sms_backend().send(phone=phone, text=text)

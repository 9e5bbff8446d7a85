"""How people are told things: e-mail when they have an address, SMS when they have a phone number.

SMS goes through a pluggable backend (`SMS_BACKEND`); the default writes the message to the log, so nothing is
sent until a real gateway's backend is configured.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class LogSmsBackend:
    """Writes each message to the log instead of sending it."""

    def send(self, *, phone: str, message: str) -> None:
        logger.info("SMS to %s: %s", phone, message)


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def notify_user(*, user, subject: str, message: str) -> None:
    if user.email:
        send_mail(subject, message, None, [user.email])
    if user.phone:
        sms_backend().send(phone=user.phone, message=message)

"""A signed-in user is signed out after SESSION_IDLE_MINUTES without a request, never while they work."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.middleware import SessionIdleTimeoutMiddleware

pytestmark = pytest.mark.django_db


def expiry(client) -> datetime.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_an_idle_session_ends_and_a_working_one_goes_on(client, caregiver, settings):
    settings.SESSION_COOKIE_AGE = 1800
    client.force_login(caregiver.user)
    assert client.get("/me/").status_code == 200
    first = expiry(client)
    assert first - timezone.now() <= datetime.timedelta(seconds=1800)

    # Still early in the session: nothing is rewritten.
    client.get("/me/")
    assert expiry(client) == first

    # Twenty minutes later (the last save long ago, the expiry near): a request moves the expiry forward.
    session = client.session
    session[SessionIdleTimeoutMiddleware.KEY] -= 1200
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + datetime.timedelta(seconds=600)
    )
    client.get("/me/")
    assert expiry(client) - timezone.now() > datetime.timedelta(seconds=1700)

    # Idle past the expiry: signed out.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get("/me/")
    assert response.status_code == 302 and "/login/" in response["Location"]

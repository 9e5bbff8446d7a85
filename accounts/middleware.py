import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


class SessionIdleTimeoutMiddleware:
    """Sign a user out after SESSION_COOKIE_AGE seconds without a request (SESSION_IDLE_MINUTES).

    A saved session expires SESSION_COOKIE_AGE after its last save. Each request of a signed-in user counts as
    activity, but the session is saved again only once half of that time has gone by since the last save, not at
    every request: an idle user is signed out between half and all of the idle time.
    """

    KEY = "_activity_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.session_key:
            now = int(time.time())
            if now - session.get(self.KEY, 0) > settings.SESSION_COOKIE_AGE / 2:
                session[self.KEY] = now  # modified: saved with a new expiry
        return self.get_response(request)


@receiver(user_logged_in)
def activity_on_login(sender, request, user, **kwargs):
    """Signing in is activity: the session starts with its mark, so the first requests rewrite nothing."""
    request.session[SessionIdleTimeoutMiddleware.KEY] = int(time.time())

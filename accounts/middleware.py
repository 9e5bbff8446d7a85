import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse

from .selectors import two_factor_device_confirmed
from .two_factor import two_factor_required


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


class TwoFactorRequiredMiddleware:
    """Send a signed-in user who needs a second factor (accounts.two_factor.two_factor_required) and has not passed
    it in this session to set one up or to enter a code, from every page, the Wagtail admin's too, and back after.

    Left alone: the sign-in, sign-out and language pages, static and media files, and views marked
    two_factor_exempt (the second-factor pages, machine endpoints with their own token, public JSON documents).
    A verified request costs OTPMiddleware's one device lookup and nothing more.
    """

    EXEMPT_VIEW_NAMES = frozenset(
        {"accounts:login", "accounts:logout", "wagtailadmin_login", "wagtailadmin_logout", "set_language"}
    )

    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt_prefixes = tuple(prefix for prefix in (settings.STATIC_URL, settings.MEDIA_URL) if prefix)

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "two_factor_exempt", False) or request.path_info.startswith(self.exempt_prefixes):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.EXEMPT_VIEW_NAMES:
            return None
        user = request.user
        if not two_factor_required(user) or user.is_verified():
            return None
        page = "accounts:two_factor_verify" if two_factor_device_confirmed(user=user) else "accounts:two_factor_setup"
        url = reverse(page)
        if request.method in ("GET", "HEAD"):
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)

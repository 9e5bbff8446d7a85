"""A fixed-window rate limit per client address, kept in the shared cache."""

import functools
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render


def client_address(request) -> str:
    """The client's address, or its /64 network for IPv6 (one subscriber usually holds a whole /64).

    Behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips): a header the client
    controls would let anyone reset their own limit.
    """
    address = request.META.get("REMOTE_ADDR", "unknown")
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


WINDOW_SECONDS = 60
now = time.time  # the clock the windows are counted on


def allow(request, scope: str, per_minute: int) -> bool:
    key = f"ratelimit:{scope}:{client_address(request)}:{int(now() // WINDOW_SECONDS)}"
    cache.add(key, 0, timeout=70)
    try:
        return cache.incr(key) <= per_minute
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=70)
        return True


def seconds_to_next_window() -> int:
    return WINDOW_SECONDS - int(now() % WINDOW_SECONDS)


def rate_limited(scope: str):
    """Refuse with 429 once a client exceeds VERIFY_RATE_LIMIT_PER_MINUTE lookups in a minute."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allow(request, scope, settings.VERIFY_RATE_LIMIT_PER_MINUTE):
                response = render(request, "certification/rate_limited.html", status=429)
                response["Retry-After"] = str(seconds_to_next_window())
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

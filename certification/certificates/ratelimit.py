"""A fixed-window rate limit per client address, kept in the shared cache."""

import functools
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render


@functools.cache
def _trusted_proxies(setting: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in setting)


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def _parsed(address: str):
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None


def client_address(request) -> str:
    """The client's address, or its /64 network for IPv6 (one subscriber usually holds a whole /64).

    Behind a reverse proxy, every request comes from the proxy: list it in TRUSTED_PROXIES and the client is the
    nearest address of X-Forwarded-For that is not a trusted proxy (the addresses further left are the client's
    own claims). From anyone else the header is ignored, or anyone could reset their own limit.
    """
    address = request.META.get("REMOTE_ADDR", "unknown")
    parsed = _parsed(address)
    if parsed is None:
        return address
    networks = _trusted_proxies(tuple(settings.TRUSTED_PROXIES))
    if networks and _trusted(parsed, networks):
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            hop_address = _parsed(hop)
            if hop_address is None:
                break  # a malformed hop: nothing to its left can be told from a forgery
            parsed = hop_address
            if not _trusted(hop_address, networks):
                break
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

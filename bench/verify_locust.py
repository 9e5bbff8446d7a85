"""Locust file for the verification benchmark: members of the public look certificates up, each from an address
of their own, and one abusive client hammers the register from one address. Started by bench/verify.py, never on
its own.

The rate limiter counts per REMOTE_ADDR (certification/certificates/ratelimit.py), so each simulated client binds
its connections to its own loopback address (all of 127.0.0.0/8 reaches the server on Linux): the server sees as
many clients as there are here, as it would see their real addresses, without trusting any header.
"""

import itertools
import json
import os
import random
import secrets
import time
from collections import Counter

import gevent.local
from geventhttpclient.connectionpool import ConnectionPool
from locust import FastHttpUser, constant_throughput, events, poisson, task

from bench.serving import PROXY_HEADERS as HEADERS
from bench.verify import json_problem, lookup_problem, page_problem, unknown_problem

SEED = json.loads(open(os.environ["BENCH_VERIFY_SEED_FILE"]).read())
CERTIFICATES = SEED["certificates"]
CLIENT_RATE = float(os.environ["BENCH_VERIFY_CLIENT_RATE"])
ABUSIVE_RATE = float(os.environ["BENCH_VERIFY_ABUSIVE_RATE"])
ADDRESS_BLOCK = int(os.environ["BENCH_VERIFY_ADDRESS_BLOCK"])
WARMUP = float(os.environ["BENCH_VERIFY_WARMUP"])
SECONDS = float(os.environ["BENCH_VERIFY_SECONDS"])
SUMMARY_FILE = os.environ["BENCH_VERIFY_SUMMARY_FILE"]
ABUSIVE_ADDRESS = f"127.{ADDRESS_BLOCK}.255.254"

_client = gevent.local.local()
_create_tcp_socket = ConnectionPool._create_tcp_socket


def _bound_socket(self, family, socktype, protocol):
    sock = _create_tcp_socket(self, family, socktype, protocol)
    address = getattr(_client, "address", None)
    if address:
        sock.bind((address, 0))
    return sock


# Connections are made in the greenlet of the user that needs one: it binds to that user's address.
ConnectionPool._create_tcp_socket = _bound_socket
_next_client = itertools.count()


def client_address(number: int) -> str:
    return f"127.{ADDRESS_BLOCK}.{number // 254}.{number % 254 + 1}"


class Visitor(FastHttpUser):
    """A member of the public (an employer, a family) checking a certificate or two: well under the limit."""

    # Lookups arrive at random (a Poisson process), and the sum over all visitors is the rate asked for.
    wait_time = poisson(CLIENT_RATE)
    concurrency = 1

    def on_start(self):
        _client.address = client_address(next(_next_client))
        # Memoryless: a random first wait makes the arrivals steady from the start, not a burst at spawn.
        gevent.sleep(random.expovariate(CLIENT_RATE))

    def _checked(self, path: str, name: str, problem, **kwargs):
        with self.client.get(path, headers=HEADERS, name=name, catch_response=True, **kwargs) as response:
            if response.status_code == 429:
                response.failure("429 to a client under the limit")
            elif (reason := problem(response)) is not None:
                response.failure(reason)
            else:
                response.success()

    @task(10)
    def scan_the_qr_code(self):
        certificate = random.choice(CERTIFICATES)
        self._checked(f"/verify/{certificate['code']}/", "page", lambda r: page_problem(r, certificate))

    @task(4)
    def read_the_record(self):
        certificate = random.choice(CERTIFICATES)
        self._checked(f"/verify/{certificate['code']}.json", "json", lambda r: json_problem(r, certificate))

    @task(3)
    def type_the_number_and_name(self):
        certificate = random.choice(CERTIFICATES)
        self._checked(
            "/verify/",
            "lookup",
            lambda r: lookup_problem(r, certificate),
            params={"number": certificate["serial_number"], "name": certificate["holder_name"]},
            allow_redirects=False,
        )

    @task(3)
    def mistype_the_code(self):
        code = secrets.token_urlsafe(15)
        path = f"/verify/{code}/" if random.random() < 0.5 else f"/verify/{code}.json"
        self._checked(path, "unknown", unknown_problem)


class AbusiveClient(FastHttpUser):
    """One address walking the register far faster than the limit: it should get 429 once over it."""

    fixed_count = 1
    wait_time = constant_throughput(ABUSIVE_RATE)
    concurrency = 1

    def on_start(self):
        _client.address = ABUSIVE_ADDRESS

    @task
    def walk_the_register(self):
        certificate = random.choice(CERTIFICATES)
        with self.client.get(
            f"/verify/{certificate['code']}/", headers=HEADERS, name="abusive", catch_response=True
        ) as response:
            if response.status_code == 429:
                response.success()
            elif (reason := page_problem(response, certificate)) is not None:
                response.failure(reason)
            else:
                response.success()


class Recorder:
    """Every request started inside the measured window, by kind of client."""

    def __init__(self):
        self.started = None
        self.kinds = {kind: {"latencies_ms": [], "statuses": Counter(), "errors": Counter()} for kind in KINDS}
        self.abusive_allowed_by_minute = Counter()
        self.abusive_span = (float("inf"), 0.0)
        self.requests_total = 0

    def measured(self, start_time: float) -> bool:
        return self.started is not None and self.started + WARMUP <= start_time < self.started + WARMUP + SECONDS

    def record(self, *, name, response_time, response, exception, start_time, **_ignored):
        self.requests_total += 1
        kind = "abusive" if name == "abusive" else "visitors"
        status = getattr(response, "status_code", None) or 0
        if kind == "abusive":
            # Over the whole run, warm-up included: a minute's allowance may be spent before the measured window.
            self.abusive_span = (min(self.abusive_span[0], start_time), max(self.abusive_span[1], time.time()))
            if exception is None and status != 429:
                self.abusive_allowed_by_minute[str(int(start_time // 60))] += 1
        if not self.measured(start_time):
            return
        entry = self.kinds[kind]
        entry["latencies_ms"].append(round(response_time, 2))
        entry["statuses"][str(status)] += 1
        if exception is not None:
            entry["errors"][str(exception)[:120]] += 1

    def summary(self) -> dict:
        return {
            "measured_seconds": SECONDS,
            "kinds": {
                kind: {
                    "latencies_ms": entry["latencies_ms"],
                    "statuses": dict(entry["statuses"]),
                    "errors": dict(entry["errors"]),
                }
                for kind, entry in self.kinds.items()
            },
            "abusive_allowed_by_minute": dict(self.abusive_allowed_by_minute),
            # The limiter's minutes the abusive client's requests fell in, from its first request to its last answer.
            "abusive_windows": int(self.abusive_span[1] // 60) - int(self.abusive_span[0] // 60) + 1
            if self.abusive_span[1]
            else 0,
            "clients": next(_next_client),
            "requests_total": self.requests_total,
        }


KINDS = ("visitors", "abusive")
recorder = Recorder()


@events.test_start.add_listener
def _started(**_kwargs):
    recorder.started = time.time()


events.request.add_listener(recorder.record)


@events.quitting.add_listener
def _write_summary(**_kwargs):
    with open(SUMMARY_FILE, "w") as handle:
        json.dump(recorder.summary(), handle)

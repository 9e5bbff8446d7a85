"""Locust file for the exam-day benchmark: each simulated caregiver starts the exam, answers every question of
their paper after some thought, submits, and stops. Started by bench/exam_day.py, never on its own."""

import itertools
import json
import os
import random
import re
import secrets

import gevent
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

SESSIONS = json.loads(open(os.environ["BENCH_SESSIONS_FILE"]).read())
EXAM_ID = int(os.environ["BENCH_EXAM_ID"])
THINK_MIN = float(os.environ.get("BENCH_THINK_MIN", "30"))
THINK_MAX = float(os.environ.get("BENCH_THINK_MAX", "90"))
USERS = int(os.environ["BENCH_USERS"])
OPTION = re.compile(r'name="q(\d+)" value="([^"]+)"')
_next_session = itertools.count()
_finished = itertools.count(1)


class Candidate(FastHttpUser):
    wait_time = constant(0)
    # One connection per candidate, as a phone would have.
    concurrency = 1

    def on_start(self):
        self.session_key = SESSIONS[next(_next_session) % len(SESSIONS)]
        # The production settings mark cookies Secure; over plain loopback HTTP the benchmark sends them itself.
        # Django accepts an unmasked 32-character CSRF secret as long as the cookie and the header agree.
        self.csrf = secrets.token_hex(16)
        # As the TLS-terminating proxy forwards it: the request counts as HTTPS, so the Referer is the HTTPS page.
        self.headers = {
            "Cookie": f"sessionid={self.session_key}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
            "X-Forwarded-Proto": "https",
            "Referer": f"{self.host.replace('http://', 'https://', 1)}/exams/{EXAM_ID}/",
        }

    def think(self):
        gevent.sleep(random.uniform(THINK_MIN, THINK_MAX))

    @task
    def sit_the_exam(self):
        self.client.get(f"/exams/{EXAM_ID}/", headers=self.headers, name="exam page")
        with self.client.post(
            f"/exams/{EXAM_ID}/",
            data={"csrfmiddlewaretoken": self.csrf},
            headers=self.headers,
            name="start",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or "/exams/attempts/" not in location:
                response.failure(f"start answered {response.status_code} {location}")
                raise StopUser()
        attempt_path = location if location.startswith("/") else "/" + location.split("/", 3)[3]
        with self.client.get(attempt_path, headers=self.headers, name="paper", catch_response=True) as response:
            options: dict[str, list[str]] = {}
            for question, choice in OPTION.findall(response.text or ""):
                options.setdefault(question, []).append(choice)
            if response.status_code != 200 or not options:
                response.failure(f"paper answered {response.status_code} without questions")
                raise StopUser()
        revision = 0
        for question, choices in options.items():
            self.think()
            revision += 1
            with self.client.post(
                f"{attempt_path}answer/",
                json={"question": int(question), "choices": [random.choice(choices)], "revision": revision},
                headers=self.headers,
                name="save answer",
                catch_response=True,
            ) as response:
                try:
                    saved = response.status_code == 200 and response.json().get("ok") is True
                except ValueError:
                    saved = False
                if not saved:
                    response.failure(f"save answered {response.status_code}")
        gevent.sleep(random.uniform(5, 15))
        with self.client.post(
            attempt_path,
            data={"csrfmiddlewaretoken": self.csrf, "submit": "1"},
            headers=self.headers,
            name="submit",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/result/" not in response.headers.get("Location", ""):
                response.failure(f"submit answered {response.status_code}")
        if next(_finished) >= USERS:
            # Everyone has submitted: end the run now rather than at the time limit.
            gevent.spawn_later(1, self.environment.runner.quit)
        raise StopUser()

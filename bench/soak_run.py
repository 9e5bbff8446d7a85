"""Child process of the soak test: `make run` (scripts/serve.sh) on a throw-away VAR_DIR, driven for SOAK_SECONDS.

While it runs: the home page is fetched every second, a certificate is queued every SOAK_ISSUE_INTERVAL seconds
(every tenth queued twice, as a broker redelivery would), caregivers sit an exam over HTTP answering a question
every couple of seconds, and beat's one-minute job ticks. Half way, a burst of SOAK_KILL_BURST certificates is
queued and the worker's main process is killed with SIGKILL while it holds some of them. At the end every queued
certificate must exist exactly once, and Ctrl-C (SIGINT) must stop it all. Prints one JSON line of figures last.
"""

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
OPTION = re.compile(r'name="q(\d+)" value="([^"]+)"')
PASSWORD = "soak-Caregiver-2026"


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Supervisor:
    def __init__(self, var_dir: Path, env: dict):
        self.var_dir = var_dir
        self.env = env

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "config/supervisord.conf"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout.strip()

    def pid(self, program: str) -> int:
        value = self.ctl("pid", program)
        return int(value) if value.isdigit() else 0

    def running(self, program: str) -> bool:
        return " RUNNING " in f" {self.ctl('status', program)} "


class Candidate:
    """A caregiver sitting the exam through the web pages, as a phone would."""

    def __init__(self, base_url: str, username: str, exam_id: int):
        self.base_url = base_url
        self.exam_id = exam_id
        self.session = requests.Session()
        self.session.get(f"{base_url}/accounts/login/", timeout=30)
        self._post("/accounts/login/", {"username": username, "password": PASSWORD})
        response = self._post(f"/exams/{exam_id}/", {}, allow_redirects=False)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or "/exams/attempts/" not in location:
            raise RuntimeError(f"exam start answered {response.status_code} {location}")
        self.attempt_path = location if location.startswith("/") else "/" + location.split("/", 3)[3]
        paper = self.session.get(self.base_url + self.attempt_path, timeout=30)
        self.questions: dict[str, list[str]] = {}
        for question, choice in OPTION.findall(paper.text):
            self.questions.setdefault(question, []).append(choice)
        self.pending = list(self.questions)
        self.revision = 0

    def _post(self, path: str, data: dict, **kwargs) -> requests.Response:
        token = self.session.cookies.get("csrftoken", "")
        return self.session.post(
            self.base_url + path,
            data={**data, "csrfmiddlewaretoken": token},
            headers={"Referer": self.base_url + path},
            timeout=30,
            **kwargs,
        )

    def answer_next(self) -> bool:
        """Saves one answer; True when it was saved."""
        question = self.pending.pop(0)
        self.revision += 1
        response = self.session.post(
            f"{self.base_url}{self.attempt_path}answer/",
            json={"question": int(question), "choices": [self.questions[question][0]], "revision": self.revision},
            headers={"X-CSRFToken": self.session.cookies.get("csrftoken", ""), "Referer": self.base_url},
            timeout=30,
        )
        return response.status_code == 200 and response.json().get("ok") is True

    def submit(self) -> bool:
        response = self._post(self.attempt_path, {"submit": "1"}, allow_redirects=False)
        return response.status_code == 302 and "/result/" in response.headers.get("Location", "")


def prepare(count: int) -> tuple[list[int], list[str], int]:
    """Decided evaluations waiting for their certificates, and caregivers who may sit the demo exam."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Institution, User
    from certification.models import Exam, StarRuleSet
    from training.models import Enrollment

    from .decisions import decided_caregivers

    institution = Institution.objects.order_by("pk").first()
    assessor = User.objects.get(username="assessor1")
    rule_set = StarRuleSet.objects.order_by("-effective_from").first()
    exam = Exam.objects.order_by("pk").first()
    evaluations = decided_caregivers(
        count=count,
        institution=institution,
        assessor=assessor,
        rule_set=rule_set,
        prefix="soak",
        password=make_password(PASSWORD),
        # Decided one by one as the drive queues them: beat's recovery job only looks at decisions that have
        # waited CERTIFICATE_REQUEUE_AFTER_SECONDS, as a real decision's would.
        decided=False,
    )
    Enrollment.objects.bulk_create(
        Enrollment(caregiver_id=evaluation.caregiver_id, course=exam.course, completed_at=timezone.now())
        for evaluation in evaluations
    )
    evaluation_ids = [evaluation.pk for evaluation in evaluations]
    usernames = [f"soak{n:05d}" for n in range(count)]
    connection.close()
    return evaluation_ids, usernames, exam.pk


def main() -> None:
    duration = float(os.environ.get("SOAK_SECONDS", "7200"))
    issue_interval = float(os.environ.get("SOAK_ISSUE_INTERVAL", "5"))
    answer_interval = float(os.environ.get("SOAK_ANSWER_INTERVAL", "2"))
    port = os.environ.get("SOAK_PORT", "8790")
    var_dir = Path(os.environ["VAR_DIR"])
    if var_dir.exists():
        shutil.rmtree(var_dir)
    var_dir.mkdir(parents=True)
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": port, "HOST": "127.0.0.1", "VAR_DIR": str(var_dir)}
    supervisor = Supervisor(var_dir, env)

    log(f"starting make run's processes on {base_url}, VAR_DIR={var_dir}")
    serve_log = open(var_dir.parent / "soak-serve.log", "w")
    serve = subprocess.Popen(
        [str(ROOT / "scripts/serve.sh")],
        cwd=ROOT,
        env=env,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while not all(supervisor.running(name) for name in ("broker", "web", "worker", "beat")):
        if serve.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"make run did not come up (see {serve_log.name})")
        time.sleep(2)
    while True:
        try:
            if requests.get(base_url + "/", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(1)

    burst = int(os.environ.get("SOAK_KILL_BURST", "10"))
    count = int(duration // issue_interval) + 1 + burst
    log(f"preparing {count} decided evaluations and exam candidates")
    evaluation_ids, usernames, exam_id = prepare(count)
    from certification.certificates.tasks import certificate_issue_task
    from certification.models import Certificate
    from config.celery import app

    from .decisions import decide

    probes, probe_failures, latencies = 0, 0, []
    queued, deliveries = [], 0
    answers_saved, answer_errors, submitted, candidates_started = 0, 0, 0, 0
    candidate, candidate_index = None, 0
    killed_at = restart_seconds = None
    burst_waiting = 0
    kill_at = duration / 2
    start = time.monotonic()
    next_probe = next_issue = next_answer = start
    log(f"driving for {duration:.0f} s; SIGKILL of the worker at {kill_at:.0f} s")
    while (now := time.monotonic()) - start < duration:
        if now >= next_probe:
            next_probe += 1
            probes += 1
            began = time.monotonic()
            try:
                ok = requests.get(base_url + "/", timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            latencies.append((time.monotonic() - began) * 1000)
            if not ok:
                probe_failures += 1
        if now >= next_issue and len(queued) < len(evaluation_ids) - burst:
            next_issue += issue_interval
            evaluation_id = evaluation_ids[len(queued)]
            queued.append(evaluation_id)
            decide([evaluation_id])
            certificate_issue_task.delay(evaluation_id)
            deliveries += 1
            if len(queued) % 10 == 0:
                certificate_issue_task.delay(evaluation_id)
                deliveries += 1
        if now >= next_answer:
            next_answer += answer_interval
            try:
                if candidate is None:
                    candidate = Candidate(base_url, usernames[candidate_index % len(usernames)], exam_id)
                    candidate_index += 1
                    candidates_started += 1
                if candidate.pending:
                    if candidate.answer_next():
                        answers_saved += 1
                    else:
                        answer_errors += 1
                else:
                    submitted += candidate.submit()
                    candidate = None
            except (requests.RequestException, RuntimeError, ValueError) as error:
                answer_errors += 1
                log(f"exam step failed: {error}")
                candidate = None
        if killed_at is None and now - start >= kill_at:
            # A burst first, so that the worker dies with tasks in hand that it has not acknowledged.
            decide(evaluation_ids[-burst:] if burst else [])
            for evaluation_id in evaluation_ids[-burst:] if burst else []:
                queued.append(evaluation_id)
                certificate_issue_task.delay(evaluation_id)
                deliveries += 1
            time.sleep(0.5)
            old = supervisor.pid("worker")
            os.kill(old, signal.SIGKILL)
            killed_at = time.monotonic()
            log(f"SIGKILL to the worker (pid {old})")
            while True:
                replies = []
                if supervisor.pid("worker") not in (0, old):
                    replies = app.control.ping(timeout=0.5)
                if replies:
                    restart_seconds = time.monotonic() - killed_at
                    break
                if time.monotonic() - killed_at > 120:
                    restart_seconds = float("inf")
                    break
                time.sleep(0.2)
            log(f"worker answering again after {restart_seconds:.1f} s")
            time.sleep(5)
            burst_waiting = burst - (
                Certificate.objects.filter(evaluation_id__in=evaluation_ids[-burst:] if burst else [])
                .exclude(status=Certificate.Status.PENDING)
                .count()
            )
            log(f"{burst_waiting} of the burst's {burst} certificates still waiting 5 s after the restart")
            next_probe = next_issue = next_answer = time.monotonic()
        time.sleep(0.05)

    log("driving done; waiting for the queue to drain")
    visibility = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900"))
    drain_deadline = time.monotonic() + visibility + 300
    while True:
        originals = Certificate.objects.filter(evaluation_id__in=queued, kind=Certificate.Kind.ORIGINAL)
        issued = originals.exclude(status=Certificate.Status.PENDING).count()
        if issued >= len(queued) or time.monotonic() > drain_deadline:
            break
        time.sleep(5)
    per_decision = {}
    for evaluation_id in originals.values_list("evaluation_id", flat=True):
        per_decision[evaluation_id] = per_decision.get(evaluation_id, 0) + 1
    serve_output = (var_dir.parent / "soak-serve.log").read_text()
    beat_ticks = serve_output.count("Scheduler: Sending due task attempts-close-overdue")
    requeued = sum(
        sum(int(n) for n in re.findall(r"'(?:pending|issue|withdraw|batch_items)': (\d+)", line))
        for line in serve_output.splitlines()
        if "certificate work queued again" in line
    )

    log("SIGINT to supervisord, as Ctrl-C would")
    stop_began = time.monotonic()
    supervisord_pid = int((var_dir / "supervisord.pid").read_text())
    os.kill(supervisord_pid, signal.SIGINT)
    serve.wait(timeout=120)
    while subprocess.run(["pgrep", "-f", str(var_dir)], capture_output=True).returncode == 0:
        if time.monotonic() - stop_began > 120:
            break
        time.sleep(0.1)
    stop_seconds = time.monotonic() - stop_began
    ordered = sorted(latencies)
    print(
        json.dumps(
            {
                "seconds": time.monotonic() - start,
                "web_probes": probes,
                "web_failures": probe_failures,
                "web_median_ms": statistics.median(ordered),
                "web_p99_ms": ordered[int(0.99 * (len(ordered) - 1))],
                "web_max_ms": ordered[-1],
                "certificates_queued": len(queued),
                "task_deliveries": deliveries,
                "certificates_issued": issued,
                "decisions_with_two_or_more": sum(1 for n in per_decision.values() if n > 1),
                "decisions_without": len(set(queued) - set(per_decision)),
                "exam_candidates": candidates_started,
                "answers_saved": answers_saved,
                "answer_errors": answer_errors,
                "exams_submitted": submitted,
                "beat_ticks": beat_ticks,
                "requeued_by_beat": requeued,
                "worker_back_after_s": restart_seconds,
                "burst_waiting_after_restart": burst_waiting,
                "stop_seconds": stop_seconds,
            }
        )
    )


if __name__ == "__main__":
    main()

"""Locust's members for bench_premiere.py: each one, with their own bearer token, starts the month's quiz, saves
ten answers (one request each, as the quiz page autosaves, ``BENCH_THINK`` seconds apart, default 3–6: reading a
question and choosing) and hands in — once — then stops. When every member has finished, the run ends. Steps are
named start / save / submit in Locust's statistics.

A request that fails (no answer, or a 5xx) is sent again as the quiz page's queue does (courses/static/courses/js/
quiz.mjs: after 2 s, doubling to at most 30 s), with the same answer id, so a retried save is idempotent; retries
are counted as their own steps (``save (retry)``). FastHttpUser (geventhttpclient) rather than HttpUser (requests):
the load generator runs on the same two cores as the server, and requests' client costs several times the CPU per
request, which the server would otherwise lose."""

import itertools
import json
import os
import random
import uuid

import gevent
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

TOKENS = json.loads(open(os.environ["BENCH_TOKENS"]).read())
COURSE = int(os.environ["BENCH_COURSE"])
API = "/api/v1/courses"
_next = itertools.count()
_done = itertools.count(1)


def _write(question: dict, seq: int) -> dict:
    write = {"ref": question["ref"], "answer_id": str(uuid.uuid4()), "seq": seq}
    if question["kind"] == "blank":
        write["blanks"] = ["1921"]
    else:
        write["options"] = [question["options"][0]["id"]]
    return write


THINK = [float(x) for x in os.environ.get("BENCH_THINK", "3,6").split(",")]
RETRY_FIRST_S, RETRY_MAX_S, RETRIES = 2.0, 30.0, 8


class Member(FastHttpUser):
    wait_time = between(*THINK)  # unused: each member runs its task once; the pauses are in the task

    def on_start(self):
        self.token = TOKENS[next(_next) % len(TOKENS)]
        self.headers = {"Authorization": f"Bearer {self.token}"}  # FastHttpSession has no session-wide headers

    def post(self, path: str, body: dict, *, name: str) -> dict:
        """POST until the server answers below 500, waiting as the quiz page does between tries."""
        wait = RETRY_FIRST_S
        for attempt in range(RETRIES + 1):
            step = name if not attempt else f"{name} (retry)"
            with self.client.post(path, json=body, headers=self.headers, name=step, catch_response=True) as response:
                if response.status_code and response.status_code < 500:
                    return response.json() if response.status_code < 400 else {}
                response.failure(f"{response.status_code or 'no answer'}")
            gevent.sleep(wait)
            wait = min(wait * 2, RETRY_MAX_S)
        return {}

    @task
    def premiere(self):
        attempt = self.post(f"{API}/{COURSE}/attempts", {}, name="start")
        for seq, question in enumerate(attempt.get("questions", [])[:10], start=1):
            gevent.sleep(random.uniform(*THINK))  # reading the question and choosing: a member, not a script
            self.post(f"{API}/attempts/{attempt['id']}/answers", {"answers": [_write(question, seq)]}, name="save")
        if attempt:
            self.post(f"{API}/attempts/{attempt['id']}/submit", {}, name="submit")
        if next(_done) >= int(os.environ["BENCH_USERS"]):
            # The last member is through: stop once the statistics of the requests still being counted are in.
            gevent.spawn_later(1, self.environment.runner.quit)
        raise StopUser()


@events.request.add_listener
def _failures(request_type, name, response_length, exception, **kwargs):
    if exception and os.environ.get("BENCH_VERBOSE"):
        print(f"{name}: {exception}")

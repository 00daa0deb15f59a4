"""Locust's members for bench_premiere.py: each one, with their own bearer token, starts the month's quiz, saves
ten answers (one request each, as the quiz page autosaves, ``BENCH_THINK`` seconds apart, default 3–6: reading a
question and choosing) and hands in — once — then stops. When every member
has finished, the run ends. Steps are named start / save / submit in Locust's statistics."""

import itertools
import json
import os
import random
import uuid

import gevent
from locust import HttpUser, between, events, task
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


class Member(HttpUser):
    wait_time = between(*THINK)  # unused: each member runs its task once; the pauses are in the task

    def on_start(self):
        self.token = TOKENS[next(_next) % len(TOKENS)]
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    @task
    def premiere(self):
        attempt = self.client.post(f"{API}/{COURSE}/attempts", json={}, name="start").json()
        for seq, question in enumerate(attempt["questions"][:10], start=1):
            gevent.sleep(random.uniform(*THINK))  # reading the question and choosing: a member, not a script
            self.client.post(
                f"{API}/attempts/{attempt['id']}/answers", json={"answers": [_write(question, seq)]}, name="save"
            )
        self.client.post(f"{API}/attempts/{attempt['id']}/submit", json={}, name="submit")
        if next(_done) >= int(os.environ["BENCH_USERS"]):
            # The last member is through: stop once the statistics of the requests still being counted are in.
            gevent.spawn_later(1, self.environment.runner.quit)
        raise StopUser()


@events.request.add_listener
def _failures(request_type, name, response_length, exception, **kwargs):
    if exception and os.environ.get("BENCH_VERBOSE"):
        print(f"{name}: {exception}")

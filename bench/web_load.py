"""Load on the web app: 50 signed-in users with think time, against `gutstride serve` on 127.0.0.1; p50/p95 per route.

What it does, in one run (bounded in users and time, 127.0.0.1 only):

1. Starts a throwaway PostgreSQL server (:func:`gutstride.store.throwaway_postgres.throwaway_postgres`: initdb and
   pg_ctl as the postgres user, a loopback port, fsync off), or uses ``--database-url``; stops it at the end.
2. Makes ``--athletes`` athletes, each with a year of data: the demo athlete's year (274 sessions with their
   streams, a daily log, 3 microbiome samples, the profile) is imported once, then its rows are copied to the other
   athletes with INSERT ... SELECT and its stream and feature files are hard-linked under each athlete's prefix
   (copying, not importing 49 more times: the benchmark measures serving, not importing). Each athlete has an
   account; ``--coaches`` coach accounts are each invited (viewer) by several athletes.
3. Starts ``gutstride serve --workers N`` (no import worker) and computes each athlete's report once (timed and
   printed apart, as "report (first)"), so that the timed run reads cached reports, as users do after the first.
4. Runs ``--users`` virtual users (threads with httpx clients, one per user; started evenly over ``--ramp``
   seconds, as locust's spawn rate does): the athletes' users each sign in as their own athlete, the coaches' users
   as a coach looking at one of their athletes. A user signs in, then loops over the dashboard, the daily-log form
   and the report JSON, signing in again every tenth round, and waits a uniform 1 to 3 s between two requests
   (locust's ``wait_time = between(1, 3)``). So 50 users make about 25 requests a second, which is what 50 people
   clicking make; a closed loop with no think time would measure only how far the machine can be saturated.
5. Prints requests, errors, p50 and p95 per route, and the load average (``/proc/loadavg``) before and after.

    python bench/web_load.py --users 50 --seconds 120 --workers 2

The sign-in rate limit counts attempts per address: every virtual user comes from 127.0.0.1, so the server is
started with a limit high enough for the run (``GUTSTRIDE_ATTEMPTS_PER_MINUTE``).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _process import environment  # noqa: E402

PASSWORD = "load-test password"
THINK = (1.0, 3.0)
SIGN_IN_EVERY = 10


def _copy_athlete(ws, source: int, target: int) -> None:  # type: ignore[no-untyped-def]
    """Give ``target`` (a new athlete) ``source``'s rows and files: profile, activities with their streams, log,
    microbiome samples with their features. Rows by INSERT ... SELECT, files by hard links."""
    from sqlalchemy import insert, literal, select, update

    from gutstride.model.profile import PERSON_FIELDS
    from gutstride.store.schema import ActivityRow, LogEntryRow, MicrobiomeSampleRow, Person

    def link(old_key: str, new_key: str) -> None:
        old_path = ws.storage.local_path(old_key)
        if old_path.exists():
            new_path = ws.storage.local_path(new_key)
            new_path.parent.mkdir(parents=True, exist_ok=True)
            os.link(old_path, new_path)

    with ws.session() as session:
        person = session.get(Person, source)
        session.execute(update(Person).where(Person.id == target)
                        .values({f: getattr(person, f) for f in PERSON_FIELDS}))
        log = LogEntryRow.__table__
        columns = [c.name for c in log.c if c.name not in ("id", "person_id")]
        session.execute(insert(log).from_select(["person_id", *columns], select(
            literal(target).label("person_id"), *[log.c[c] for c in columns]).where(log.c.person_id == source)))
        files = {ActivityRow: (ws.stream_key, ws.rr_key), MicrobiomeSampleRow: (ws.microbiome_key,)}
        for model, keys in files.items():
            table = model.__table__
            columns = [c.name for c in table.c if c.name not in ("id", "person_id")]
            rows = session.execute(select(table.c.id, *[table.c[c] for c in columns])
                                   .where(table.c.person_id == source).order_by(table.c.id)).all()
            new_ids = session.scalars(insert(model).returning(table.c.id, sort_by_parameter_order=True),
                                      [{"person_id": target, **dict(zip(columns, row[1:], strict=True))}
                                       for row in rows]).all()
            for row, new_id in zip(rows, new_ids, strict=True):
                for key in keys:
                    link(key(source, row[0]), key(target, new_id))


def populate(database_url: str, storage: Path, athletes: int, coaches: int, day: date) -> dict[str, list]:
    """The athletes (each with a year of data) and the coaches, coach j invited by athletes j, j + coaches, ...;
    returns the users of each role: (email, the athlete id it looks at)."""
    from gutstride.services import accounts, sharing
    from gutstride.store.storage import LocalStorage
    from gutstride.store.workspace import Workspace
    from gutstride.web.demo import DEMO_EMAIL, ensure_demo

    ws = Workspace(storage, create=True, database_url=database_url, storage=LocalStorage(storage))
    start = time.perf_counter()
    ensure_demo(ws, day, PASSWORD)
    demo = accounts.authenticate(ws, DEMO_EMAIL, PASSWORD)
    assert demo is not None and demo.athlete_id is not None
    print(f"demo athlete's year imported in {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    owners = [demo]
    for i in range(1, athletes):
        account = accounts.sign_up(ws, f"athlete-{i}@example.org", PASSWORD, "athlete")
        assert account.athlete_id is not None
        _copy_athlete(ws, demo.athlete_id, account.athlete_id)
        owners.append(account)
    users: dict[str, list] = {"athlete": [(DEMO_EMAIL, demo.athlete_id)]}
    users["athlete"] += [(a.email, a.athlete_id) for a in owners[1:]]
    users["coach"] = []
    for j in range(coaches):
        coach = accounts.sign_up(ws, f"coach-{j}@example.org", PASSWORD, "coach")
        mine = owners[j::coaches]
        for owner in mine:
            assert owner.athlete_id is not None
            grant_id = sharing.invite(ws, owner, owner.athlete_id, coach.email, "viewer")
            assert sharing.accept(ws, coach, grant_id)
        users["coach"].append((coach.email, mine[-1].athlete_id))  # the athletes no athlete user stands for
    print(f"{athletes - 1} athletes copied from it, {coaches} coaches invited, in {time.perf_counter() - start:.0f} s",
          flush=True)
    return users


@contextmanager
def serve(database_url: str, storage: Path, workers: int, day: date) -> Iterator[tuple[str, int]]:
    from gutstride.store.throwaway_postgres import free_port

    port = free_port()
    env = {**environment(), "GUTSTRIDE_DATABASE_URL": database_url, "GUTSTRIDE_ATTEMPTS_PER_MINUTE": "1000000",
           "GUTSTRIDE_REPORT_DAY": day.isoformat()}
    process = subprocess.Popen([sys.executable, "-m", "gutstride", "serve", "--storage", str(storage), "--port",
                                str(port), "--workers", str(workers), "--import-workers", "0"], env=env)
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gutstride serve did not start") from None
            time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live descendants (from /proc)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
        cpu[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, todo = set(), [pid]
    while todo:
        current = todo.pop()
        tree.add(current)
        todo += [child for child, parent in parents.items() if parent == current and child not in tree]
    return sum(cpu.get(p, 0.0) for p in tree)


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def load(base: str, users: list[tuple[str, int]], seconds: float, ramp: float, seed: int = 1) -> int:
    """Run the virtual users; print the figures per route; return how many requests were made."""
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def timed(client: httpx.Client, name: str, method: str, url: str, **kwargs: object) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError:
            response = None
        elapsed = (time.perf_counter() - start) * 1000
        with lock:
            times[name].append(elapsed)
            if response is None or response.status_code >= 400:
                errors[name] += 1
        return response

    start_all = time.monotonic()
    end = start_all + ramp + seconds

    def user(index: int, email: str, athlete: int) -> None:
        rng = random.Random(seed * 1000 + index)
        routes = [("dashboard", f"/athletes/{athlete}"), ("log form", f"/athletes/{athlete}/log"),
                  ("report (cached)", f"/api/athletes/{athlete}/report.json")]
        time.sleep(index * ramp / len(users))
        with httpx.Client(base_url=base, timeout=120) as client:
            rounds = 0
            while time.monotonic() < end:
                if rounds % SIGN_IN_EVERY == 0:
                    response = timed(client, "sign-in", "POST", "/api/auth/token",
                                     data={"username": email, "password": PASSWORD})
                    if response is None or response.status_code != 200:
                        time.sleep(rng.uniform(*THINK))
                        continue
                    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
                    time.sleep(rng.uniform(*THINK))
                for name, url in routes:
                    if time.monotonic() >= end:
                        break
                    timed(client, name, "GET", url)
                    time.sleep(rng.uniform(*THINK))
                rounds += 1

    threads = [threading.Thread(target=user, args=(i, email, athlete)) for i, (email, athlete) in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.monotonic() - start_all
    n = sum(len(v) for v in times.values())
    print(f"{len(users)} users, think time uniform {THINK[0]:.0f}-{THINK[1]:.0f} s, ramp {ramp:.0f} s, "
          f"run {total:.0f} s; {n} requests ({n / total:.1f}/s) against {base}")
    print(f"{'route':<18}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for name in ("sign-in", "dashboard", "log form", "report (cached)"):
        values = times.get(name, [])
        if not values:
            continue
        p95 = statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
        print(f"{name:<18}{len(values):>9}{errors[name]:>8}{statistics.median(values):>9.0f}{p95:>9.0f}"
              f"{max(values):>9.0f}")
    return n


def warm(base: str, users: list[tuple[str, int]], parallel: int) -> None:
    """Compute each athlete's report once (the first request of each), ``parallel`` at a time, before the run."""
    from concurrent.futures import ThreadPoolExecutor

    first = {athlete: email for email, athlete in reversed(users)}

    def compute(athlete: int) -> float:
        with httpx.Client(base_url=base, timeout=300) as client:
            token = client.post("/api/auth/token", data={"username": first[athlete], "password": PASSWORD})
            token.raise_for_status()
            start = time.perf_counter()
            client.get(f"/api/athletes/{athlete}/report.json",
                       headers={"Authorization": f"Bearer {token.json()['access_token']}"}).raise_for_status()
            return (time.perf_counter() - start) * 1000

    with ThreadPoolExecutor(parallel) as pool:
        took = list(pool.map(compute, first))
    print(f"report (first, computed): {len(took)} athletes, {parallel} at a time, median "
          f"{statistics.median(took):.0f} ms, max {max(took):.0f} ms (before the run)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="virtual users (at most 200)")
    parser.add_argument("--athletes", type=int, default=50, help="athletes with a year of data each")
    parser.add_argument("--coaches", type=int, default=10, help="how many of the users are coaches")
    parser.add_argument("--seconds", type=float, default=120, help="how long the full load lasts (at most 600)")
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which the users start")
    parser.add_argument("--workers", type=int, default=2, help="web server processes (gutstride serve --workers)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to fill (default: a throwaway "
                                                           "server made and removed by this run)")
    args = parser.parse_args()
    if not (1 <= args.users <= 200 and 0 <= args.coaches < args.users and 0 < args.seconds <= 600
            and args.coaches <= args.athletes <= 200):
        raise SystemExit("1 to 200 users, fewer coaches than users, 1 to 600 seconds, at most 200 athletes")
    from gutstride.store.throwaway_postgres import throwaway_postgres

    day = date.today()
    print(f"load average before: {_loadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gutstride-load-") as tmp, \
            (nullcontext(None) if args.database_url else throwaway_postgres()) as server:
        url = args.database_url or server.create_database("load")
        users = populate(url, Path(tmp) / "storage", args.athletes, args.coaches, day)
        everyone = users["athlete"][:args.users - args.coaches] + users["coach"]
        with serve(url, Path(tmp) / "storage", args.workers, day) as (base, pid):
            warm(base, everyone, args.workers)
            print(f"load average at the start of the run: {_loadavg()}", flush=True)
            cpu, own, wall = _tree_cpu_seconds(pid), time.process_time(), time.monotonic()
            n = load(base, everyone, args.seconds, args.ramp)
            cpu, own, wall = _tree_cpu_seconds(pid) - cpu, time.process_time() - own, time.monotonic() - wall
            print(f"server CPU during the run: {cpu:.1f} s in {wall:.0f} s ({cpu / wall:.2f} cores busy), "
                  f"{cpu / n * 1000:.1f} ms a request on average (sign-ins included); "
                  f"the load generator's own CPU: {own:.1f} s")
            print(f"load average after: {_loadavg()}", flush=True)


if __name__ == "__main__":
    main()

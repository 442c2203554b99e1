"""Load on the web app: concurrent signed-in users against a server on 127.0.0.1 only; p95 per route.

A real HTTP load generator (httpx clients in threads, one per virtual user), bounded in users and time. Each user
is a coach account the demo athlete invited (a year of data: ``gutstride serve --demo``); it signs in once, then
loops over the dashboard, the daily-log form and the cached report JSON, signing in again every tenth round.

    # a server with the demo athlete and a sign-in limit high enough for the benchmark:
    GUTSTRIDE_ATTEMPTS_PER_MINUTE=100000 GUTSTRIDE_DEMO_PASSWORD=... gutstride serve --demo --port 8766 &
    python bench/web_load.py --base http://127.0.0.1:8766 --password ... --users 50 --seconds 60

Prints one line per route: requests, errors, median and 95th percentile in ms.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import defaultdict
from urllib.parse import urlparse

import httpx

DEMO = "demo@example.org"
PASSWORD = "load-test password"


def _setup(base: str, demo_password: str, users: int) -> tuple[int, list[str]]:
    """The demo athlete's id, and ``users`` coach accounts it invited (made on first use)."""
    with httpx.Client(base_url=base, timeout=120) as client:
        token = client.post("/api/auth/token", data={"username": DEMO, "password": demo_password})
        token.raise_for_status()
        demo = {"Authorization": f"Bearer {token.json()['access_token']}"}
        athlete = client.get("/api/me", headers=demo).json()["athlete_id"]
        invited = {g["email"] for g in client.get(f"/api/athletes/{athlete}/grants", headers=demo).json()
                   if g["status"] == "active"}
        emails = [f"load-coach-{i}@example.org" for i in range(users)]
        for email in emails:
            if email in invited:
                continue
            client.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "role": "coach"})
            client.post(f"/api/athletes/{athlete}/grants", json={"email": email, "role": "viewer"}, headers=demo)
            coach = client.post("/api/auth/token", data={"username": email, "password": PASSWORD}).json()
            auth = {"Authorization": f"Bearer {coach['access_token']}"}
            for invitation in client.get("/api/invitations", headers=auth).json():
                client.post(f"/api/invitations/{invitation['grant_id']}/accept", headers=auth)
        return int(athlete), emails


def run(base: str, demo_password: str, users: int, seconds: float) -> dict[str, list[float]]:
    if urlparse(base).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the load benchmark runs against 127.0.0.1 only")
    athlete, emails = _setup(base, demo_password, users)
    routes = {"dashboard": f"/athletes/{athlete}", "log form": f"/athletes/{athlete}/log",
              "report (cached)": f"/api/athletes/{athlete}/report.json"}
    with httpx.Client(base_url=base, timeout=120) as warm:  # the report is computed once, then served cached
        token = warm.post("/api/auth/token", data={"username": emails[0], "password": PASSWORD}).json()
        warm.get(routes["report (cached)"], headers={"Authorization": f"Bearer {token['access_token']}"})
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    end = time.monotonic() + seconds

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

    def user(email: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            rounds = 0
            while time.monotonic() < end:
                if rounds % 10 == 0:
                    response = timed(client, "sign-in", "POST", "/api/auth/token",
                                     data={"username": email, "password": PASSWORD})
                    if response is None or response.status_code != 200:
                        continue
                    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
                for name, url in routes.items():
                    timed(client, name, "GET", url)
                rounds += 1

    threads = [threading.Thread(target=user, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{users} users, {seconds:.0f} s, against {base}")
    print(f"{'route':<18}{'requests':>9}{'errors':>8}{'median ms':>11}{'p95 ms':>9}")
    for name, values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        print(f"{name:<18}{len(values):>9}{errors[name]:>8}{statistics.median(values):>11.0f}{p95:>9.0f}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--password", required=True, help="the demo athlete's password (printed by serve --demo)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    run(args.base, args.password, args.users, args.seconds)


if __name__ == "__main__":
    main()

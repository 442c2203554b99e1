"""End to end in headless Chromium (Playwright, Debian's /usr/bin/chromium) against a real ``gutstride serve`` with
two web server processes (so sessions, CSRF tokens and reports must hold across processes, as in production).

1. An athlete signs up and uploads a Garmin-style export zip built from real FIT files.
2. The athlete waits for the import (run by the worker process) and logs a symptom.
3. The athlete invites a coach.
4. The coach signs in and sees the dashboard: charts laid out, 0 console errors; a screenshot is kept.
5. The athlete revokes access, and the coach gets 404.
6. The athlete exports, then deletes the account, and 0 rows and 0 files remain.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gutstride.store.throwaway_postgres import PostgresServer, free_port

from .conftest import DATA

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Real rides of September and October 2020 (with heart rate), and a run of 2013; reports are made for REPORT_DAY.
FIT_FILES = [DATA / "activities" / "fit-fitparse" / "nick.fit",
             DATA / "activities" / "fit-fitparse" / "coros-pace-2-cycling-misaligned-fields.fit",
             DATA / "activities" / "fit-fitparse" / "2013-02-06-12-11-14.fit"]
REPORT_DAY = "2020-11-01"
#: Where the screenshot of the coach's view of the dashboard is written (and looked at).
SCREENSHOT = Path(os.environ.get("GUTSTRIDE_SCREENSHOT_DIR", "/tmp")) / "gutstride-coach-dashboard.png"
PASSWORD = "correct horse battery"
#: Tables holding an athlete's rows (person_id) in the web app's database.
ATHLETE_TABLES = ("activity", "log_entry", "microbiome_sample", "import_record", "access_grant", "note", "import_job")


def garmin_export() -> bytes:
    """A zip laid out as Garmin Connect's account export: FIT files inside a nested zip under DI_CONNECT."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in FIT_FILES:
            archive.write(path, path.name)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue())
        archive.writestr("DI_CONNECT/DI-Connect-User/user_profile.json", '{"gender": "FEMALE"}')
    return outer.getvalue()


@pytest.fixture
def server(postgres: PostgresServer, tmp_path: Path) -> tuple[str, str, Path]:
    url = postgres.create_database(f"browser{os.getpid()}")
    port, storage = free_port(), tmp_path / "storage"
    env = {**os.environ, "GUTSTRIDE_DATABASE_URL": url, "GUTSTRIDE_ATTEMPTS_PER_MINUTE": "1000",
           "GUTSTRIDE_REPORT_DAY": REPORT_DAY}
    process = subprocess.Popen([sys.executable, "-m", "gutstride", "serve", "--storage", str(storage), "--port",
                                str(port), "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            time.sleep(0.3)
    try:
        yield base, url, storage
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.mark.browser
def test_athlete_and_coach_in_chromium(server: tuple[str, str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, database_url, storage = server
    export = tmp_path / "garmin-export.zip"
    export.write_bytes(garmin_export())
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        athlete = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)  # a phone
        coach = browser.new_context(viewport={"width": 1100, "height": 1400})
        pages = {"athlete": athlete.new_page(), "coach": coach.new_page()}
        for name, page in pages.items():
            page.on("console", lambda m, n=name: errors.append(f"{n}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e, n=name: errors.append(f"{n}: {e}"))
            page.on("response", lambda r, n=name: errors.append(f"{n}: HTTP {r.status} {r.url}") if r.status >= 400
                    else None)
        a, c = pages["athlete"], pages["coach"]

        # 1. sign up and upload the export
        a.goto(base + "/signup")
        a.fill("input[name=email]", "runner@example.org")
        a.fill("input[name=password]", PASSWORD)
        a.check("input[value=athlete]")
        a.click("button[type=submit]")
        a.wait_for_url("**/athletes/*")
        athlete_id = int(a.url.rstrip("/").rsplit("/", 1)[1])
        a.goto(f"{base}/athletes/{athlete_id}/upload")
        a.set_input_files("input[name=file]", str(export))
        a.click("form[enctype] button")
        # 2. wait for the worker (the page refreshes itself while the import runs), then log a symptom
        deadline = time.monotonic() + 180
        while a.locator(".job").first.get_attribute("data-status") not in ("done", "failed"):
            assert time.monotonic() < deadline, "the import did not finish"
            a.wait_for_timeout(1000)
            a.reload()
        assert a.locator(".job").first.get_attribute("data-status") == "done", a.content()
        statuses = a.locator(".job td.status").all_inner_texts()
        # one status per file: each FIT file imported (nick.fit is partial: it ends in a fault), the profile skipped
        assert sum(s in ("ok", "partial") for s in statuses) == len(FIT_FILES) and statuses.count("skipped") == 1
        a.goto(f"{base}/athletes/{athlete_id}/log")
        a.fill("input[name=birth_year]", "1985")  # for heart-rate zones
        a.click("#profile button")
        a.fill("input[name=date]", "2020-10-26")
        a.fill("input[name=bloating]", "6")
        a.fill("input[name=nausea]", "2")
        a.click("form.logform button")
        assert a.locator("p.ok").is_visible()

        # 3. the coach has an account; the athlete invites them
        c.goto(base + "/signup")
        c.fill("input[name=email]", "coach@example.org")
        c.fill("input[name=password]", PASSWORD)
        c.check("input[value=coach]")
        c.click("button[type=submit]")
        a.goto(f"{base}/athletes/{athlete_id}/sharing")
        a.fill("input[name=email]", "coach@example.org")
        a.select_option("select[name=role]", "viewer")
        a.click("form.stack button")
        assert "pending" in a.locator("#grants").inner_text()

        # 4. the coach signs in, accepts, and sees the dashboard
        c.context.clear_cookies()
        c.goto(base + "/login")
        c.fill("input[name=email]", "coach@example.org")
        c.fill("input[name=password]", PASSWORD)
        c.click("button[type=submit]")
        c.wait_for_url("**/athletes")
        c.click("text=Accept")
        c.click(f"a[href='/athletes/{athlete_id}']")
        c.wait_for_url(f"**/athletes/{athlete_id}")
        charts = c.locator(".report svg")
        assert charts.count() >= 2
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 100 and box["height"] > 50, box
        c.screenshot(path=str(SCREENSHOT), full_page=False)

        # 5. the athlete revokes; the coach's next request is a 404
        a.goto(f"{base}/athletes/{athlete_id}/sharing")
        a.click("#grants button")
        assert "revoked" in a.locator("#grants").inner_text()
        assert errors == []
        response = c.goto(f"{base}/athletes/{athlete_id}")
        assert response is not None and response.status == 404
        logged = "coach: Failed to load resource: the server responded with a status of 404 (Not Found)"
        assert sorted(errors) == [logged, f"coach: HTTP 404 {base}/athletes/{athlete_id}"]
        errors.clear()  # the browser logs the expected 404 itself

        # 6. export, then delete the account
        a.goto(base + "/account")
        with a.expect_download() as download:
            a.click("text=Download the export")
        saved = tmp_path / "export.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            names = archive.namelist()
        assert "log.json" in names and sum(n.startswith("streams/") for n in names) >= len(FIT_FILES)
        a.fill("form:has(button.danger) input[name=password]", PASSWORD)
        a.click("button.danger")
        assert "deleted" in a.locator("h1").inner_text()
        browser.close()
    assert errors == []
    engine = create_engine(database_url)
    with engine.connect() as connection:
        left = {table: connection.scalar(text(f"SELECT count(*) FROM {table} WHERE person_id = :a"), {"a": athlete_id})
                for table in ATHLETE_TABLES}
        left["person"] = connection.scalar(text("SELECT count(*) FROM person WHERE id = :a"), {"a": athlete_id})
        left["app_user"] = connection.scalar(text("SELECT count(*) FROM app_user WHERE email = 'runner@example.org'"))
        actions = [r[0] for r in connection.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    engine.dispose()
    assert set(left.values()) == {0}, left
    assert not (storage / "athletes" / str(athlete_id)).exists()
    assert {"sign_in", "grant", "revoke", "export", "erase"} <= set(actions)

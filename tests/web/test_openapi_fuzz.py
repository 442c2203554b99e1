"""schemathesis against /openapi.json, signed in as an athlete with data: 0 server errors (bounded examples)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from gutstride.services import accounts
from gutstride.web.app import create_app
from gutstride.web.config import WebConfig

from .conftest import make_account, open_ws, placeholder_report

#: The day of the stand-in reports.
TODAY = date(2026, 11, 1)

#: Generated cases per operation (about 20 operations): bounded so the test takes seconds.
EXAMPLES = 6


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    ws = open_ws(database_url, tmp_path_factory.mktemp("storage"))
    app = create_app(WebConfig(database_url=database_url, attempts_per_minute=1_000_000), ws)
    app.state.today = TODAY  # the day of the stand-in reports: the inputs are fuzzed here, not the report's making
    account = make_account(ws, "fuzz@example.org", "athlete")
    from gutstride.ingest.logs import entry_from_mapping
    from gutstride.services.logs import add_log_entries

    entry, _ = entry_from_mapping({"date": "2026-10-01", "bloating": 3})
    add_log_entries(ws, account.athlete_id, [entry], "test")
    placeholder_report(ws, account.athlete_id, TODAY)
    token, _ = accounts.start_session(ws, account, "bearer")
    app.state.fuzz_headers = {"Authorization": f"Bearer {token}"}
    return app


def test_no_server_errors(app: Any) -> None:
    """Every operation of the published schema, with generated valid and invalid inputs: never a 5xx."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    n_operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        n_operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            response = case.call(headers=app.state.fuzz_headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        call()
    assert n_operations >= 20
    assert failures == []

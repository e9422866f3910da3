"""``ravyn openapi`` and ``ravyn asyncapi``: the documents, printed or written, as a real
process; the same bytes each run."""

import json

import pytest

from tests.cli.processes import ravyn

pytestmark = pytest.mark.timeout(60)


def test_openapi_prints_the_document_of_the_routes():
    result = ravyn("openapi", "docs_src.web.parameters:app")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/items/{item_id}", "/items", "/register", "/whoami"}
    assert ravyn("openapi", "docs_src.web.parameters:app").stdout == result.stdout  # stable


def test_asyncapi_writes_the_document_of_the_events(tmp_path):
    output = tmp_path / "asyncapi.json"
    result = ravyn("asyncapi", "docs_src.first_app:app", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    document = json.loads(output.read_text())
    assert document["asyncapi"] == "3.0.0"
    assert document["channels"]["user_registered"]["address"] == "user_registered"
    listeners = {op["x-listener"] for op in document["operations"].values() if "x-listener" in op}
    assert listeners == {"docs_src.first_app:send_welcome_email", "docs_src.first_app:audit"}


def test_an_unwritable_output_is_one_line_with_exit_2(tmp_path):
    result = ravyn("openapi", "docs_src.web.parameters:app", "-o", str(tmp_path / "no/such.json"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("ravyn openapi: cannot write --output")
    assert "Traceback" not in result.stderr


def test_events_shows_each_listener_scope_and_the_payload_fields():
    result = ravyn("events", "docs_src.openapi.events_app:app")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["EVENT", "SENDERS", "LISTENERS", "PAYLOAD"]
    assert row.startswith("order.placed")
    assert "events_app:refresh_dashboards (broadcast)" in row
    assert "events_app:send_receipt," in row  # once per cluster: unmarked
    assert row.endswith("order_id: integer, email: string, total: number")
    as_json = json.loads(ravyn("events", "docs_src.openapi.events_app:app", "--json").stdout)
    [entry] = as_json["events"]
    assert entry["scopes"] == {
        "docs_src.openapi.events_app:send_receipt": "once-per-cluster",
        "docs_src.openapi.events_app:refresh_dashboards": "broadcast",
    }
    assert entry["payload_fields"][0] == {"name": "order_id", "type": "integer", "required": True}

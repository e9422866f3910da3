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

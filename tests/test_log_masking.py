"""Secrets that travel in URLs (the launch token, Dynamic Registration's token, configuration
address and invitation, calendar feed tokens) never reach an access log in full."""

from __future__ import annotations

import datetime
import logging
import re
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "eyJsYXVuY2gi.Z3m9Qw.s3cr3t-signature_value"


def _gunicorn_logger(**settings):
    """A real gunicorn Logger built from deploy/gunicorn.conf.py, as gunicorn builds it."""
    from gunicorn.config import Config

    cfg = Config()
    for name, value in runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    for name, value in settings.items():
        cfg.set(name, value)
    return cfg.logger_class(cfg)


def _access_line(logger, raw_uri: str, headers: dict[str, str]) -> str:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.access_log.addHandler(handler)
    path, _, query = raw_uri.partition("?")
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": raw_uri, "PATH_INFO": path,
               "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.9",
               "HTTP_REFERER": headers.get("Referer", "-"),
               "HTTP_USER_AGENT": "Mozilla/5.0"}
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=list(headers.items()))
    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    logger.access_log.removeHandler(handler)
    assert len(lines) == 1
    return lines[0]


def test_the_gunicorn_access_log_masks_the_launch_token():
    logger = _gunicorn_logger()
    line = _access_line(
        logger, f"/questionnaire/?lt={TOKEN}&page=2",
        {"Referer": f"https://dmd.example.edu/mentor/?lt={TOKEN}", "X-Launch-Token": TOKEN})
    assert TOKEN not in line
    assert "/questionnaire/?lt=***&page=2" in line
    assert "/mentor/?lt=***" in line  # the Referer of a same-origin link
    assert " 200 " in line and "10.0.0.9" in line


def test_every_atom_an_operator_may_log_is_masked():
    """An operator's own access_log_format with the query, the raw URI, the token header."""
    logger = _gunicorn_logger(access_log_format=(
        '%(q)s | %(r)s | %({x-launch-token}i)s | %({raw_uri}e)s | %({query_string}e)s | '
        '%({authorization}i)s'))
    uri = (f"/lti/register?invite=inv-code-123&openid_configuration=https%3A%2F%2Flms.example"
           f"%2Fconfig&registration_token={TOKEN}")
    line = _access_line(logger, uri, {"X-Launch-Token": TOKEN,
                                      "Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in line and "inv-code-123" not in line and "lms.example" not in line
    assert "registration_token=***" in line and "invite=***" in line
    assert "openid_configuration=***" in line


def test_calendar_feed_tokens_are_masked_too():
    logger = _gunicorn_logger()
    line = _access_line(logger, "/calendar/Zx81secretfeedtoken.ics", {})
    assert "Zx81secretfeedtoken" not in line and "/calendar/***.ics" in line


@pytest.fixture
def werkzeug_log(caplog, monkeypatch):
    """The werkzeug server's request log (the test session's Alembic logging config disables
    loggers that existed before it ran)."""
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", False)
    caplog.set_level(logging.INFO, logger="werkzeug")
    return caplog


def test_the_development_server_log_masks_the_launch_token(app, tool_server, werkzeug_log):
    requests.get(tool_server.url + "/healthz", params={"lt": TOKEN, "x": "1"})
    requests.get(tool_server.url + "/lti/register",
                 params={"registration_token": TOKEN, "invite": "inv-code-123"})
    lines = [record.getMessage() for record in werkzeug_log.records
             if record.name == "werkzeug"]
    assert any("/healthz?lt=***&x=1" in line for line in lines), lines
    assert any("registration_token=***" in line for line in lines), lines
    assert not [line for line in lines if TOKEN in line or "inv-code-123" in line]


def test_the_nginx_example_logs_no_query_and_no_referer_query():
    conf = (ROOT / "deploy" / "nginx.conf.example").read_text()
    formats = re.findall(r"^log_format\s+(\S+)(.*?);", conf, re.S | re.M)
    assert formats, "the example defines its own log_format"
    name, body = formats[0]
    for leaky in ("$request ", '$request"', "$request_uri", "$args", "$query_string",
                  "$http_referer", "$arg_"):
        assert leaky not in body, leaky
    assert re.search(rf"access_log\s+\S+\s+{name}\s*;", conf)
    # The path is $uri (no query), with calendar feed tokens replaced.
    path_var = re.search(r"\$request_method (\$\w+)", body).group(1)
    mapping = re.search(r"map \$uri " + re.escape(path_var) + r" \{([^}]*)\}", conf).group(1)
    assert "calendar" in mapping and "***" in mapping

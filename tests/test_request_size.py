"""A request body larger than any real form is refused before it is read, with a clear page."""

from __future__ import annotations

import logging

TWENTY_MB = 20 * 1024 * 1024


def test_a_20_mb_post_gets_the_413_page_and_is_logged(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.post("/lti/launch", data=b"x" * TWENTY_MB,
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "<h1>Request Entity Too Large</h1>" in page
    assert "at most 256 KB" in page
    assert any("too large" in r.getMessage() and "/lti/launch" in r.getMessage()
               for r in caplog.records)


def test_the_413_page_speaks_polish_to_a_polish_browser(client):
    response = client.post("/lti/launch", data=b"x" * TWENTY_MB,
                           content_type="application/x-www-form-urlencoded",
                           headers={"Accept-Language": "pl-PL,pl;q=0.9"})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Za duże żądanie" in page and "najwyżej 256 KB" in page


def test_a_body_without_length_is_cut_off_at_the_limit_too(client):
    """A chunked body names no length (gunicorn marks it `wsgi.input_terminated`): reading
    it stops at the limit."""
    from io import BytesIO

    response = client.post(
        "/lti/launch", input_stream=BytesIO(b"id_token=" + b"x" * TWENTY_MB),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"}, environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_the_largest_real_form_still_fits(app):
    """The launch's id_token is the largest body a platform sends (a Canvas token with many
    roles and custom fields is a few KB); mentors' longest text field is 5,000 characters."""
    assert app.config["MAX_CONTENT_LENGTH"] == 256 * 1024

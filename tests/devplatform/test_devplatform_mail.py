"""The development platform's Mail page: what its SMTP sink caught, message by message."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from lti_tool.devplatform.mailpage import start_sink
from tests.processes import free_port


def test_the_mail_page_lists_and_shows_what_the_sink_caught(platform_app, devplatform, web):
    port = free_port()
    sink = start_sink(devplatform.config.data_dir, "127.0.0.1", port)
    try:
        assert "No e-mail yet." in web.get("/mail").get_data(as_text=True)
        message = EmailMessage()
        message["From"], message["To"] = "dmd@localhost", "ada@example.edu"
        message["Subject"] = "Reminder: mentoring session <tomorrow>"
        message.set_content("See you tomorrow.")
        message.add_alternative("<p>See you <b>tomorrow</b>.</p>", subtype="html")
        message.add_attachment("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
                               subtype="calendar", filename="s.ics",
                               params={"method": "REQUEST"})
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        sink.stop()
    listing = web.get("/mail").get_data(as_text=True)
    assert "ada@example.edu" in listing
    assert "Reminder: mentoring session &lt;tomorrow&gt;" in listing
    link = listing.split('href="/mail/')[1].split('"')[0]
    shown = web.get(f"/mail/{link}").get_data(as_text=True)
    assert "See you tomorrow." in shown  # the plain-text part
    # The HTML part is shown in a sandboxed frame, escaped into its srcdoc.
    assert 'sandbox srcdoc="&lt;p&gt;See you &lt;b&gt;tomorrow' in shown
    assert "s.ics (text/calendar; method=REQUEST)" in shown
    assert web.get("/mail/no-such-message").status_code == 404

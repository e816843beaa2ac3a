"""Which e-mails a person gets (a page in a learner's or mentor's launch), and unsubscribing.

The unsubscribe URL carries a signed token (unsubscribe.py), so it works from any mail
program without signing in. A GET shows one button; only a POST turns the kind off, because
mail scanners and link previews fetch every link in a message and must not unsubscribe
anyone. Mail programs that honour List-Unsubscribe-Post send that POST themselves
(RFC 8058 one-click): it needs no form token, the signed URL is the authority.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, redirect, render_template, request
from flask_babel import force_locale

from lti_tool.extensions import db
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Person, Role
from lti_tool.lti.session import launch_url_for, role_required
from lti_tool.notifications import preferences
from lti_tool.notifications.compose import recipient_language
from lti_tool.notifications.kinds import KINDS, Kind
from lti_tool.notifications.outbox import can_email, mail_enabled
from lti_tool.notifications.unsubscribe import read_token

log = logging.getLogger(__name__)
bp = Blueprint("notifications", __name__)
DONE = {"saved": _l("Your e-mail settings are saved.")}


@bp.get("/mail/settings")
@role_required(Role.LEARNER, Role.MENTOR)
def settings():
    """The kinds of e-mail the tool sends, each with a box to keep or stop it."""
    person = db.session.get(Person, g.launch.person_id)
    off = preferences.turned_off(person.id)
    html = render_template(
        "notifications/settings.html", launch=g.launch, person=person, kinds=KINDS,
        chosen={kind for kind in Kind if kind not in off}, can_email=can_email(person),
        mail_enabled=mail_enabled(), done=DONE.get(request.args.get("done", "")),
    )
    return html


@bp.post("/mail/settings")
@role_required(Role.LEARNER, Role.MENTOR)
def save_settings():
    """Keep the ticked kinds, stop the others."""
    person = db.session.get(Person, g.launch.person_id)
    wanted = {Kind(name) for name in request.form.getlist("kind") if name in set(Kind)}
    preferences.save_choice(person, wanted)
    db.session.commit()
    log.info("person %s keeps e-mails %s", person.id, sorted(k.value for k in wanted))
    return redirect(launch_url_for("notifications.settings", done="saved"), code=303)


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET: say what the link stops, with one button. POST: stop it (the one click)."""
    found = read_token(token)
    person = db.session.get(Person, found.person_id) if found is not None else None
    if person is None:
        log.warning("unsubscribe with a token the tool did not sign (or a person gone)")
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    with force_locale(recipient_language(person.locale)):
        label = str(KINDS[found.kind].label)
        if request.method == "POST":
            preferences.turn_off(person.id, found.kind, source="link")
            db.session.commit()
            log.info("person %s unsubscribed from %s", person.id, found.kind.value)
            return render_template("notifications/unsubscribe.html", done=True, label=label,
                                   token=token)
        return render_template("notifications/unsubscribe.html", done=False, label=label,
                               token=token)

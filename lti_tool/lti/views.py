"""LTI endpoints: OIDC login, launch, the tool's public keys, and registration."""

from __future__ import annotations

import inspect
import logging

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh as refresh_language

from lti_tool import headers as security_headers
from lti_tool.extensions import db
from lti_tool.i18n import in_launch_language
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import Role
from lti_tool.lti import invitations, keys, registration, tool_profile
from lti_tool.lti.models import LaunchSession
from lti_tool.lti.provisioning import provision, remember_frame_origins
from lti_tool.lti.session import (
    TOKEN_HEADER,
    TOKEN_PARAM,
    SessionProblem,
    context_of,
    load_context,
    new_session,
    role_required,
    sign_link_token,
    write_session,
)
from lti_tool.lti.validation import (
    CLAIM,
    LaunchError,
    StateCookies,
    StateProofMissing,
    ToolLaunch,
    begin_login,
    describe,
)

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")
well_known = Blueprint("well_known", __name__)


def _refuse(exc: LaunchError, step: str):
    db.session.rollback()
    log.warning("%s refused (%s): %s", step, exc.status, exc.detail)
    return render_template("lti/error.html", message=exc.message, step=step), exc.status


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _interstitial(template: str, **context):
    """A page shown in the LMS frame before any launch is accepted (the login's checks, the
    Platform Storage read-back, the new window): never cached, and framable by the page that
    sent the request.

    Canvas serves course pages from the school's own host, which the tool learns only from a
    valid launch (remember_frame_origins); until then the usual frame-ancestors would hide
    these pages inside it. They hold nothing a framing page could read and talk to the
    platform only by postMessage to its auth endpoint origin, so the sender may frame them.
    """
    response = make_response(render_template(template, **context))
    response.headers["Content-Security-Policy"] = security_headers.content_security_policy(
        [request.headers.get("Origin")]
    )
    return _no_store(response)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Third-party initiated login: Moodle posts a form, others use GET.

    Straight on to the platform (302) in a window of the tool's own, where its cookies are
    first-party. In a frame (`Sec-Fetch-Dest: iframe`), or when the platform offers
    Platform Storage (`lti_storage_target`), a small page first checks that the state
    cookie comes back and stores the state in the platform's storage; when neither works
    it offers a new window *before* the platform is asked, because Moodle's launch id in
    `lti_message_hint` is single-use and a new window can still use it then.
    """
    try:
        start = begin_login()
    except LaunchError as exc:
        return _refuse(exc, "login")
    framed = request.headers.get("Sec-Fetch-Dest") in ("iframe", "frame")
    if start.in_new_window or not (start.storage_target or framed):
        return start.cookies.apply(redirect(start.auth_url, code=302))
    return start.cookies.apply(_interstitial("lti/platform_storage_login.html", start=start))


@bp.get("/login/cookie")
def login_cookie():
    """Whether the browser sent back the state cookie of this login (asked by the login
    page, from the same frame, to learn whether the launch will get it too)."""
    state = request.args.get("state", "")
    returned = bool(state) and StateCookies().get_cookie(state) == state
    return _no_store(jsonify({"cookie": returned}))


def _landing(role: Role, message_type: str, has_course: bool) -> str:
    if message_type == "LtiDeepLinkingRequest":
        return "gradebook.deep_link"
    if not has_course:
        return "lti.no_course"
    return {Role.MENTOR: "mentoring.cohort_page", Role.OBSERVER: "observer.index"}.get(
        role, "questionnaire.start")


@bp.post("/launch")
def launch():
    """Validate the platform's id_token, record who came, and open their landing page."""
    try:
        lti_launch = ToolLaunch().validate()
    except StateProofMissing as missing:
        return _without_state_cookie(missing)
    except LaunchError as exc:
        return _refuse(exc, "launch")
    return _open_framed(lti_launch)


def _open_framed(lti_launch: ToolLaunch):
    """_open, after noting the LMS pages the signed launch names as ones that may frame the
    tool (a Canvas school's own host; see remember_frame_origins)."""
    new_origin = remember_frame_origins(lti_launch.platform, lti_launch.claims)
    response = _open(lti_launch)
    if new_origin:
        # A Canvas school's own host, met for the first time (and now committed): the landing
        # page this launch redirects to must be allowed inside it at once, not a minute later.
        security_headers.forget_origins()
    return response


def _without_state_cookie(missing: StateProofMissing):
    """The state cookie did not come back: read the state from Platform Storage, or offer
    a new window.

    The new-window page is an answer, not an error, so it comes with 200: the browser shows
    it in the LMS frame like any page and the person can act on it. Nothing was accepted:
    the state is spent and no session exists. (401 would need a WWW-Authenticate challenge
    that no scheme here can give.)
    """
    if missing.storage_target:
        return _interstitial(
            "lti/platform_storage_launch.html", missing=missing,
            id_token=request.form.get("id_token", ""),
        )
    log.warning("launch without state cookie or platform storage: new window offered")
    return _interstitial("lti/new_window.html", new_window_url=missing.new_window_url)


@bp.post("/launch/storage")
def launch_with_platform_storage():
    """The launch again, posted by the tool's own page with the state it read back from
    Platform Storage instead of the cookie (see ToolLaunch._check_storage_proof for why
    only a same-origin post with the very state is accepted)."""
    try:
        lti_launch = ToolLaunch(storage_proof=request.form.get("lti_storage_value", "")).validate()
    except LaunchError as exc:
        return _refuse(exc, "launch")
    return _open_framed(lti_launch)


def _open(lti_launch: ToolLaunch):
    """Record who came with a validated launch and send them to their landing page."""
    claims = lti_launch.claims
    person, course, link, role = provision(lti_launch.platform, lti_launch.deployment, claims)
    message_type = claims[CLAIM + "message_type"]
    endpoint = _landing(role, message_type, course is not None) if role is not Role.NONE else ""
    # The landing page comes with the launch's answer when it can (see _landing_page).
    inline = endpoint in INLINE_LANDINGS and link is not None
    session_row = new_session(
        person, lti_launch.deployment.id, course, link, role, message_type, claims)
    landing_url = url_for(endpoint, **{TOKEN_PARAM: sign_link_token(session_row.id)}) \
        if endpoint else ""
    landing = _landing_page(endpoint, landing_url, session_row) if inline else None
    write_session(session_row)
    db.session.commit()
    log.info("launch accepted as %s: %s", role.value, describe(claims))
    if role is Role.NONE:
        presentation = claims.get(CLAIM + "launch_presentation")
        locale = presentation.get("locale") if isinstance(presentation, dict) else None
        with in_launch_language(locale):
            return render_template(
                "lti/no_role.html", person=person, course=course,
                roles=claims.get(CLAIM + "roles"),
            ), 403
    return landing if landing is not None else redirect(landing_url, code=303)


#: Landing pages the launch answers with itself, saving the browser a round trip: pages
#: that read nothing from the request but the launch (`g.launch`) and need its activity.
INLINE_LANDINGS = frozenset({"questionnaire.start"})


def _landing_page(endpoint: str, landing_url: str, session_row: LaunchSession):
    """The landing page as the launch's own answer.

    Its view runs without its token check (this request is making the session), before the
    new session is written: its reads share the launch's transaction and connection, and
    SQLite's write lock is not held while the page renders. The caller then writes the
    session and commits; a failure there answers with an error instead of this page.

    The page names its own address, which a script puts in the address bar, so that
    reloading it asks for the page again rather than posting the spent launch a second
    time."""
    g.launch = context_of(session_row)
    g.landing_url = landing_url
    refresh_language()
    view = inspect.unwrap(current_app.view_functions[endpoint])
    return _no_store(make_response(view()))


@bp.post("/session/renew")
def renew_session():
    """A fresh link token for the page that holds a page token (see session.py).

    Only a page token, only from the header: a token read out of an address (a log, a
    history, a copied link) cannot be turned into a fresh one.
    """
    try:
        launch = load_context(request.headers.get(TOKEN_HEADER), page_token_only=True)
    except SessionProblem as exc:
        log.info("launch token renewal refused: %s", exc)
        return _no_store(jsonify(error="session", message=str(exc))), 401
    return _no_store(jsonify(
        token=launch.link_token, url_seconds=current_app.config["URL_TOKEN_MINUTES"] * 60))


@bp.get("/no-course")
@role_required(Role.LEARNER, Role.MENTOR, Role.OBSERVER)
def no_course():
    """A launch without a course context: explain where the tool works."""
    return render_template("lti/no_course.html")


@bp.get("/jwks")
def jwks():
    """The tool's public keys, for platforms to verify what the tool signs."""
    if keys.retire_expired():
        db.session.commit()
    response = jsonify(keys.jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@well_known.get("/.well-known/jwks.json")
def well_known_jwks():
    """The same key set at the conventional address."""
    return jwks()


@bp.get("/config")
def registration_info():
    """Every URL and step for registering the tool in Moodle or Canvas, with copy buttons."""
    command = (
        'flask --app lti_tool platforms add --name "Moodle" --issuer <Platform ID> '
        "--client-id <Client ID> --auth-login-url <Platform ID>/mod/lti/auth.php "
        "--auth-token-url <Platform ID>/mod/lti/token.php "
        "--key-set-url <Platform ID>/mod/lti/certs.php --deployment <Deployment ID>"
    )
    return render_template(
        "lti/registration_info.html", urls=tool_profile.tool_urls(), moodle_command=command
    )


@bp.get("/canvas.json")
def canvas_json():
    """The Canvas developer key configuration (Admin › Developer Keys › LTI Key › Enter URL)."""
    return jsonify(tool_profile.canvas_configuration())


def _registration_page(template: str, status: int = 200, *, frame_urls=(), **context):
    """A registration page that the registering platform may frame.

    The platform is not registered yet, so the tool's usual frame-ancestors (registered
    platforms only) would hide the page inside Moodle's or Canvas's registration frame:
    the platform's origin is added to them for this page.
    """
    response = make_response(render_template(template, **context), status)
    response.headers["Content-Security-Policy"] = security_headers.content_security_policy(
        frame_urls
    )
    return _no_store(response)


def _registration_problem(exc: Exception, status: int, title: str, *, frame_urls=(),
                          hint: str | None = None):
    db.session.rollback()
    detail = getattr(exc, "detail", str(exc))
    log.warning("dynamic registration refused (%s): %s", status, detail)
    message = getattr(exc, "message", str(exc))
    return _registration_page("lti/register_problem.html", status, frame_urls=frame_urls,
                              title=title, message=message, hint=hint)


def _check_allowed_site(configuration_url: str, invite: str | None) -> None:
    """Who may register, checked before the tool fetches anything from the platform."""
    config = current_app.config
    if config["REGISTRATION_MODE"] == "invitation":
        invitations.check_invitation(invite)
    elif config["REGISTRATION_MODE"] == "allowlist" and not registration.site_allowed(
        configuration_url, config["REGISTRATION_ALLOWED_ISSUERS"]
    ):
        raise registration.RegistrationNotAllowed(_l(
            "%(url)s is not on the site of a platform this tool accepts registrations from. "
            "Ask the tool's administrator to add your issuer to REGISTRATION_ALLOWED_ISSUERS.",
            url=configuration_url,
        ))


def _read_configuration(url: str, token: str | None, invite: str | None):
    """The platform's configuration; with an invitation, read once and kept with it, so the
    page opened again and the Register button use what was read the first time."""
    if current_app.config["REGISTRATION_MODE"] != "invitation":
        return registration.read_configuration(url, token)
    known = invitations.claim_fetch(invite, url)
    if known is not None:
        return registration.parse_configuration(url, known)
    # Committed before the fetch: a fetch that fails has used the invitation's one fetch too.
    db.session.commit()
    configuration = registration.read_configuration(url, token)
    invitations.keep_configuration(invite or "", configuration.raw)
    db.session.commit()
    return configuration


def _check_allowed_issuer(issuer: str) -> None:
    config = current_app.config
    if config["REGISTRATION_MODE"] == "allowlist" and not registration.issuer_allowed(
        issuer, config["REGISTRATION_ALLOWED_ISSUERS"]
    ):
        raise registration.RegistrationNotAllowed(_l(
            "The issuer %(issuer)s may not register this tool. Ask the tool's administrator to "
            "add it to REGISTRATION_ALLOWED_ISSUERS.", issuer=issuer,
        ))


def _register(configuration, token: str | None, invite: str | None):
    """Claim the invitation, register with the platform, keep the claim only on success."""
    by_invitation = current_app.config["REGISTRATION_MODE"] == "invitation"
    if by_invitation:
        invitations.claim_invitation(invite, configuration.issuer)
        # Committed before the platform is called, so no database lock is held during the
        # HTTP round trips and a second registration with the same code is refused at once.
        db.session.commit()
    try:
        return registration.register(configuration, token)
    except registration.RegistrationError:
        db.session.rollback()
        if by_invitation:
            invitations.release_invitation(invite or "")
            db.session.commit()
        raise


@bp.route("/register", methods=["GET", "POST"])
def register():
    """LTI Dynamic Registration: the platform opens this with openid_configuration and
    registration_token; GET shows what will be registered, POST registers."""
    params = request.form if request.method == "POST" else request.args
    configuration_url = params.get("openid_configuration")
    token = params.get("registration_token")
    invite = params.get(invitations.INVITE_PARAM)
    frame_urls = [configuration_url]
    if not configuration_url:
        return _registration_page("lti/register_info.html", 400)
    try:
        registration.check_url(configuration_url, _l("openid_configuration address"))
        _check_allowed_site(configuration_url, invite)
        configuration = _read_configuration(configuration_url, token, invite)
        frame_urls.append(configuration.issuer)
        _check_allowed_issuer(configuration.issuer)
        if request.method == "GET":
            return _registration_page(
                "lti/register_confirm.html", frame_urls=frame_urls, configuration=configuration,
                request_data=registration.registration_request(), registration_token=token,
                invite=invite,
            )
        outcome = _register(configuration, token, invite)
    except (invitations.InvitationRefused, registration.RegistrationNotAllowed) as exc:
        return _registration_problem(exc, 403, _("Registration not allowed"),
                                     frame_urls=frame_urls)
    except registration.BadRegistrationRequest as exc:
        return _registration_problem(exc, 400, _("Registration refused"), frame_urls=frame_urls)
    except registration.PlatformFailed as exc:
        return _registration_problem(
            exc, 502, _("The platform did not complete the registration"), frame_urls=frame_urls,
            hint=_("Start the registration again from your LMS; each attempt needs a fresh "
                   "registration token, which the LMS makes when you press its button."),
        )
    db.session.commit()
    security_headers.forget_origins()  # the new platform may frame the tool at once
    log.info("dynamic registration done: %s client id %s", outcome.platform.issuer,
             outcome.platform.client_id)
    return _registration_page("lti/register_done.html", frame_urls=frame_urls, outcome=outcome)

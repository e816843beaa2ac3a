"""Command line: serve the platform, or print its registration for the tool.

    python -m lti_tool.devplatform --host localhost --port 5001 [--profile canvas] \\
        --tool-url http://127.0.0.1:5000 --data-dir instance/devplatform [--learners 30]
    python -m lti_tool.devplatform registration --issuer http://localhost:5001 [--profile canvas]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from urllib.parse import urlsplit

from .canvas import CANVAS_ISSUER, CanvasHosts
from .config import PROFILES, ProductionRefused, refuse_production, tool_settings_from_url


def canvas_client_id(base_url: str) -> str:
    """The Canvas developer key id the platform on this port uses (one per port, so that a
    tool registered with a platform on another port keeps working with that one)."""
    return f"1000000{urlsplit(base_url).port or 80:05d}"


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lti_tool.devplatform")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--tool-url", default="http://127.0.0.1:5000",
                        help="the tool's base URL: /lti/login, /lti/launch, /lti/jwks under it")
    parser.add_argument("--data-dir", default="instance/devplatform",
                        help="where the platform's private key and SQLite store live")
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--issuer", help="public base URL, when not http://HOST:PORT")
    parser.add_argument("--client-id", default="dmd-devplatform")
    parser.add_argument("--deployment-id", default="1")
    parser.add_argument("--profile", choices=PROFILES, default="moodle",
                        help="the LMS it plays at start; the console switches between them")
    parser.add_argument("--mail-port", type=int, default=None,
                        help="also catch the tool's e-mails on this SMTP port (the Mail page)")
    args = parser.parse_args(argv)

    from werkzeug.serving import run_simple

    from .app import create_platform_app

    issuer = args.issuer or f"http://{args.host}:{args.port}"
    tool = tool_settings_from_url(args.tool_url)
    tool.update(client_id=args.client_id, deployment_id=args.deployment_id)
    app = create_platform_app({
        "ISSUER": issuer,
        "DATA_DIR": args.data_dir,
        "LEARNERS": args.learners,
        "TOOL": tool,
        "PROFILE": args.profile,
        "CANVAS_CLIENT_ID": canvas_client_id(issuer),
    })
    print(f"Development platform (Moodle 4.5 or Canvas, now {args.profile}): console at "
          f"{issuer}/", flush=True)
    print(f"  tool login {tool['login_url']}, launch {tool['target_link_uri']}", flush=True)
    if args.mail_port:
        from pathlib import Path

        from .mailpage import maildir_path, start_sink

        start_sink(Path(args.data_dir), "127.0.0.1", args.mail_port)
        print(f"  SMTP sink on 127.0.0.1:{args.mail_port}, caught mail at {issuer}/mail "
              f"({maildir_path(Path(args.data_dir))})", flush=True)
    # "localhost" binds the IPv4 loopback: browsers send school.localhost and sso.localhost
    # (the Canvas profile's hosts) there too.
    bind = "127.0.0.1" if args.host == "localhost" else args.host
    run_simple(bind, args.port, app, threaded=True, use_reloader=False)
    return 0


def _registration(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lti_tool.devplatform registration")
    parser.add_argument("--issuer", default="http://localhost:5001")
    parser.add_argument("--client-id", default="dmd-devplatform")
    parser.add_argument("--deployment-id", default="1")
    parser.add_argument("--format", choices=("json", "args"), default="json",
                        help="args: options for `flask platforms add`")
    parser.add_argument("--profile", choices=PROFILES, default="moodle")
    args = parser.parse_args(argv)
    issuer = args.issuer.rstrip("/")
    if args.profile == "canvas":
        # What a Canvas admin copies from the developer key; the deployment comes at the
        # first launch from the installed app.
        sso = CanvasHosts(issuer).sso
        registration = {
            "issuer": CANVAS_ISSUER,
            "client_id": canvas_client_id(issuer),
            "auth_login_url": f"{sso}/api/lti/authorize_redirect",
            "auth_token_url": f"{sso}/login/oauth2/token",
            "key_set_url": f"{sso}/api/lti/security/jwks",
        }
    else:
        registration = {
            "issuer": issuer,
            "client_id": args.client_id,
            "deployment_id": args.deployment_id,
            "auth_login_url": f"{issuer}/mod/lti/auth.php",
            "auth_token_url": f"{issuer}/mod/lti/token.php",
            "key_set_url": f"{issuer}/mod/lti/certs.php",
        }
    if args.format == "json":
        print(json.dumps(registration, indent=2))
        return 0
    options = []
    for key, value in registration.items():
        option = "--deployment" if key == "deployment_id" else "--" + key.replace("_", "-")
        options += [option, value]
    print(shlex.join(options))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; exits 2 in a production environment."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        refuse_production()
    except ProductionRefused as exc:
        print(f"Refusing to start: {exc}", file=sys.stderr)
        return 2
    if argv and argv[0] == "registration":
        return _registration(argv[1:])
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())

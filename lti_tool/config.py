"""Configuration: defaults, a TOML file, then LTI_TOOL_* environment variables.

The file is named by ``LTI_TOOL_CONFIG`` or found at ``instance/config.toml``. Only
UPPERCASE top-level keys reach ``app.config`` (Flask ignores lower-case ones).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tomllib
import zoneinfo
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: The installed package: templates, static files, migrations, translations, instruments.
PACKAGE_DIR = Path(__file__).resolve().parent
ENV_PREFIX = "LTI_TOOL_"
ENVIRONMENTS = ("development", "test", "production")

#: Documented in config.example.toml; a key missing here and in the file is unset.
DEFAULTS: dict[str, Any] = {
    "ENV": "production",
    "TOOL_NAME": "Design Mindset Detector",
    "SQLALCHEMY_DATABASE_URI": None,  # defaults to instance/dmd.sqlite3, see load_config
    "REDIS_URL": "",
    "KEYS_DIR": str(PROJECT_ROOT / "keys"),
    "KEY_BITS": 2048,
    "LAUNCH_SESSION_MINUTES": 240,
    #: How long a launch token is accepted in a URL (links); pages renew theirs.
    "URL_TOKEN_MINUTES": 10,
    "LOGIN_STATE_SECONDS": 600,
    "ID_TOKEN_LEEWAY_SECONDS": 60,
    "ID_TOKEN_MAX_AGE_SECONDS": 600,
    "PLATFORM_JWKS_CACHE_SECONDS": 3600,
    "HTTP_TIMEOUT_SECONDS": 10,
    "GRADE_RETRY_HOURS": 48,
    "GRADE_WORKER_POLL_SECONDS": 5,
    "ROSTER_MAX_AGE_MINUTES": 15,
    "REGISTRATION_MODE": "invitation",
    "REGISTRATION_ALLOWED_ISSUERS": [],
    "REGISTRATION_INVITE_HOURS": 72,
    "REGISTRATION_ISSUER_SITES": {},
    #: None: allowed in development and test (the development platform is on the loopback),
    #: refused in production.
    "REGISTRATION_ALLOW_PRIVATE_HOSTS": None,
    "KEY_ROTATION_OVERLAP_HOURS": 48,
    "UNKNOWN_DEPLOYMENTS": "refuse",
    "DEFAULT_TIMEZONE": "UTC",
    "MENTORING_SESSION_MINUTES": 90,
    "BOOKING_GUARD_HOURS": 24,
    "LEARNER_MAX_UPCOMING_SESSIONS": 1,
    "CALENDAR_FEED_PAST_DAYS": 60,
    "LOG_LEVEL": "INFO",
    "TRUSTED_PROXIES": 0,
    "ATTEMPT_RETENTION_DAYS": 730,
    "FRAME_ANCESTORS_EXTRA": [],
    #: Largest request body, in bytes: the launch's id_token and the mentors' longest text
    #: fields are a few KB; anything near this is not a form of the tool's.
    "MAX_CONTENT_LENGTH": 256 * 1024,
    #: Where `make run` serves the development platform; linked from "/" in development.
    "DEV_PLATFORM_URL": "",
    #: E-mail notifications (see config.example.toml); an empty MAIL_HOST sends nothing.
    "MAIL_HOST": "",
    "MAIL_PORT": 587,
    "MAIL_SECURITY": "starttls",
    "MAIL_USER": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "",
    "MAIL_TIMEOUT_SECONDS": 30,
    "MAIL_RETRY_HOURS": 48,
    "MAIL_REMINDER_HOURS": 24,
    "MAIL_SCAN_MINUTES": 5,
}

#: Keys that must be present and valid before the application may start.
REQUIRED = ("SECRET_KEY", "TOOL_URL")
#: Who may register the tool by LTI Dynamic Registration (see config.example.toml).
REGISTRATION_MODES = ("invitation", "open", "allowlist")
#: What a launch from a deployment the tool does not know yet gets.
UNKNOWN_DEPLOYMENT_POLICIES = ("refuse", "accept")
#: How the tool talks to the mail server: STARTTLS on 587, TLS from the start on 465, or
#: plain (a server on the same machine only).
MAIL_SECURITIES = ("starttls", "ssl", "none")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used; the message names key and file."""


def config_path() -> Path:
    """Where the configuration file is expected."""
    named = os.environ.get(ENV_PREFIX + "CONFIG")
    return Path(named) if named else PROJECT_ROOT / "instance" / "config.toml"


def _parse_env_value(raw: str, default: Any) -> Any:
    """Environment values are strings; coerce them to the type of the default."""
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, (list, dict)):
        return json.loads(raw)
    return raw


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the TOML file, the environment and explicit overrides, then check."""
    config = dict(DEFAULTS)
    path = config_path()
    source = str(path)
    overrides = dict(overrides or {})
    if path.exists():
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        config.update({k: v for k, v in data.items() if k.isupper()})
    elif "SECRET_KEY" not in overrides and not os.environ.get(ENV_PREFIX + "SECRET_KEY"):
        raise ConfigError(
            f"No configuration file at {path}. Copy config.example.toml there "
            f"(or run `make run`, which creates one), or set {ENV_PREFIX}CONFIG."
        )
    for key, raw in os.environ.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG":
            name = key[len(ENV_PREFIX):]
            try:
                config[name] = _parse_env_value(raw, config.get(name))
            except ValueError as exc:
                raise ConfigError(f"environment variable {key}: {exc}") from exc
    if os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    config.update(overrides)
    if overrides:
        source = f"{source} (with overrides)"
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance = PROJECT_ROOT / "instance"
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'dmd.sqlite3'}"
    keys_dir = Path(config.get("KEYS_DIR") or PROJECT_ROOT / "keys")
    config["KEYS_DIR"] = str(keys_dir if keys_dir.is_absolute() else PROJECT_ROOT / keys_dir)
    check_config(config, source)
    config["TOOL_URL"] = config["TOOL_URL"].rstrip("/")
    return config


def check_config(config: dict[str, Any], source: str) -> None:
    """Stop start-up with a message naming the key and the file when a key is unusable."""
    for key in REQUIRED:
        if not config.get(key):
            raise ConfigError(f"{source}: required key {key} is missing")
    if len(str(config["SECRET_KEY"])) < 32:
        raise ConfigError(f"{source}: SECRET_KEY must be at least 32 characters long")
    if config["ENV"] not in ENVIRONMENTS:
        raise ConfigError(f"{source}: ENV must be one of {', '.join(ENVIRONMENTS)}")
    url = urlsplit(str(config["TOOL_URL"]))
    if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
        raise ConfigError(
            f"{source}: TOOL_URL must be the tool's public base URL, such as "
            f"https://dmd.example.edu (got {config['TOOL_URL']!r})"
        )
    if config["ENV"] == "production" and url.scheme != "https":
        raise ConfigError(
            f"{source}: TOOL_URL must use https in production: LMS iframes need Secure cookies"
        )
    for key in ("LAUNCH_SESSION_MINUTES", "URL_TOKEN_MINUTES", "LOGIN_STATE_SECONDS", "KEY_BITS",
                "ROSTER_MAX_AGE_MINUTES", "ATTEMPT_RETENTION_DAYS", "MAX_CONTENT_LENGTH"):
        if not isinstance(config.get(key), int) or config[key] <= 0:
            raise ConfigError(f"{source}: {key} must be a positive whole number")
    if not isinstance(config.get("TRUSTED_PROXIES"), int) or config["TRUSTED_PROXIES"] < 0:
        raise ConfigError(f"{source}: TRUSTED_PROXIES must be 0 or a positive whole number")
    if not isinstance(config.get("FRAME_ANCESTORS_EXTRA"), list):
        raise ConfigError(f"{source}: FRAME_ANCESTORS_EXTRA must be a list of origins")
    if config["KEY_BITS"] < 2048:
        raise ConfigError(f"{source}: KEY_BITS must be at least 2048")
    for key in ("GRADE_RETRY_HOURS", "GRADE_WORKER_POLL_SECONDS"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"{source}: {key} must be a number above 0 (got {value!r})")
    _check_registration(config, source)
    _check_mentoring(config, source)
    _check_mail(config, source)


def _check_registration(config: dict[str, Any], source: str) -> None:
    """The Dynamic Registration, key rotation and deployment policy keys."""
    for key, allowed in (("REGISTRATION_MODE", REGISTRATION_MODES),
                         ("UNKNOWN_DEPLOYMENTS", UNKNOWN_DEPLOYMENT_POLICIES)):
        if config.get(key) not in allowed:
            raise ConfigError(
                f"{source}: {key} must be one of {', '.join(allowed)} (got {config.get(key)!r})"
            )
    issuers = config.get("REGISTRATION_ALLOWED_ISSUERS")
    if not isinstance(issuers, (list, tuple)) or not all(
        isinstance(i, str) and urlsplit(i).scheme in ("http", "https") and urlsplit(i).netloc
        for i in issuers
    ):
        raise ConfigError(
            f"{source}: REGISTRATION_ALLOWED_ISSUERS must be a list of issuer URLs, such as "
            '["https://moodle.example.edu"]'
        )
    if config["REGISTRATION_MODE"] == "allowlist" and not issuers:
        raise ConfigError(
            f"{source}: REGISTRATION_ALLOWED_ISSUERS must name at least one issuer when "
            'REGISTRATION_MODE is "allowlist"'
        )
    config["REGISTRATION_ALLOWED_ISSUERS"] = [i.rstrip("/") for i in issuers]
    sites = config.get("REGISTRATION_ISSUER_SITES")
    if not isinstance(sites, dict) or not all(
        isinstance(urls, (list, tuple)) and all(
            isinstance(u, str) and urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc
            for u in urls)
        for urls in sites.values()
    ):
        raise ConfigError(
            f"{source}: REGISTRATION_ISSUER_SITES must map an issuer to the sites that may "
            'register it, such as {"https://canvas.instructure.com" = ["https://canvas.school.edu"]}'
        )
    config["REGISTRATION_ISSUER_SITES"] = {
        issuer.rstrip("/"): list(urls) for issuer, urls in sites.items()}
    private = config.get("REGISTRATION_ALLOW_PRIVATE_HOSTS")
    if private is None:
        private = config["ENV"] != "production"
    elif isinstance(private, str):  # from LTI_TOOL_REGISTRATION_ALLOW_PRIVATE_HOSTS
        private = _parse_env_value(private, False)
    if not isinstance(private, bool):
        raise ConfigError(f"{source}: REGISTRATION_ALLOW_PRIVATE_HOSTS must be true or false "
                          f"(got {private!r})")
    config["REGISTRATION_ALLOW_PRIVATE_HOSTS"] = private
    for key, minimum in (("REGISTRATION_INVITE_HOURS", 1), ("KEY_ROTATION_OVERLAP_HOURS", 0)):
        value = config.get(key)
        if not _whole(value) or value < minimum:
            raise ConfigError(
                f"{source}: {key} must be a whole number of hours, at least {minimum} "
                f"(got {value!r})"
            )


def _check_mentoring(config: dict[str, Any], source: str) -> None:
    """The time zone and booking keys."""
    try:
        zoneinfo.ZoneInfo(str(config.get("DEFAULT_TIMEZONE")))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{source}: DEFAULT_TIMEZONE must be an IANA time zone such as \"Europe/Warsaw\" "
            f"(got {config.get('DEFAULT_TIMEZONE')!r})"
        ) from exc
    for key, low, high in (("MENTORING_SESSION_MINUTES", 15, 480), ("BOOKING_GUARD_HOURS", 0, 720),
                           ("LEARNER_MAX_UPCOMING_SESSIONS", 1, 100),
                           ("CALENDAR_FEED_PAST_DAYS", 0, 3660)):
        value = config.get(key)
        if not _whole(value) or not low <= value <= high:
            raise ConfigError(
                f"{source}: {key} must be a whole number from {low} to {high} (got {value!r})"
            )


def _check_mail(config: dict[str, Any], source: str) -> None:
    """The mail server keys: checked only when MAIL_HOST names a server."""
    if not config.get("MAIL_HOST"):
        return
    if config.get("MAIL_SECURITY") not in MAIL_SECURITIES:
        raise ConfigError(f"{source}: MAIL_SECURITY must be one of {', '.join(MAIL_SECURITIES)} "
                          f"(got {config.get('MAIL_SECURITY')!r})")
    for key, low, high in (("MAIL_PORT", 1, 65535), ("MAIL_TIMEOUT_SECONDS", 1, 600),
                           ("MAIL_RETRY_HOURS", 1, 720), ("MAIL_REMINDER_HOURS", 1, 336),
                           ("MAIL_SCAN_MINUTES", 1, 1440)):
        value = config.get(key)
        if not _whole(value) or not low <= value <= high:
            raise ConfigError(
                f"{source}: {key} must be a whole number from {low} to {high} (got {value!r})")
    sender = str(config.get("MAIL_FROM") or "")
    if "@" not in parseaddr(sender)[1]:
        raise ConfigError(
            f"{source}: MAIL_FROM must be the address e-mails come from, such as "
            f'"Design Mindset Detector <dmd@example.edu>" (got {sender!r})')
    if (config["ENV"] == "production" and config["MAIL_SECURITY"] == "none"
            and config.get("MAIL_USER")):
        raise ConfigError(f"{source}: MAIL_SECURITY \"none\" would send MAIL_PASSWORD "
                          "unencrypted; use \"starttls\" or \"ssl\"")


def _whole(value: Any) -> bool:
    # bool is an int to Python, but `true` is not a number of hours.
    return isinstance(value, int) and not isinstance(value, bool)


def write_initial_config(path: Path, tool_url: str, env: str = "development") -> bool:
    """Create a configuration file with a fresh SECRET_KEY; never overwrite one."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    example = (PROJECT_ROOT / "config.example.toml").read_text(encoding="utf-8")
    lines = []
    for line in example.splitlines():
        if line.startswith("SECRET_KEY"):
            line = f'SECRET_KEY = "{secrets.token_urlsafe(48)}"'
        elif line.startswith("TOOL_URL"):
            line = f'TOOL_URL = "{tool_url}"'
        elif line.startswith("ENV"):
            line = f'ENV = "{env}"'
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return True


def main(argv: list[str]) -> int:
    """`python -m lti_tool.config init [--tool-url URL]`: write instance/config.toml once."""
    if not argv or argv[0] != "init":
        print("usage: python -m lti_tool.config init [--tool-url URL]", file=sys.stderr)
        return 2
    tool_url = "http://127.0.0.1:5000"
    if "--tool-url" in argv:
        tool_url = argv[argv.index("--tool-url") + 1]
    path = config_path()
    if write_initial_config(path, tool_url):
        print(f"Wrote {path} with a new SECRET_KEY (keep it out of git).")
    else:
        print(f"{path} exists; left unchanged.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

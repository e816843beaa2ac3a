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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
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
    "LOGIN_STATE_SECONDS": 600,
    "ID_TOKEN_LEEWAY_SECONDS": 60,
    "ID_TOKEN_MAX_AGE_SECONDS": 600,
    "PLATFORM_JWKS_CACHE_SECONDS": 3600,
    "HTTP_TIMEOUT_SECONDS": 10,
    "DEFAULT_TIMEZONE": "UTC",
    "LOG_LEVEL": "INFO",
}

#: Keys that must be present and valid before the application may start.
REQUIRED = ("SECRET_KEY", "TOOL_URL")


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
    for key in ("LAUNCH_SESSION_MINUTES", "LOGIN_STATE_SECONDS", "KEY_BITS"):
        if not isinstance(config.get(key), int) or config[key] <= 0:
            raise ConfigError(f"{source}: {key} must be a positive whole number")
    if config["KEY_BITS"] < 2048:
        raise ConfigError(f"{source}: KEY_BITS must be at least 2048")


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

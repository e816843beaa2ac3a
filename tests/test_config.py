"""Configuration: TOML, environment overrides, and start-up refusals that name key and file."""

from __future__ import annotations

import pytest

from lti_tool.config import ConfigError, load_config, write_initial_config

GOOD = 'SECRET_KEY = "{}"\nTOOL_URL = "http://127.0.0.1:5000"\nENV = "development"\n'.format(
    "s" * 40
)


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    monkeypatch.setenv("LTI_TOOL_CONFIG", str(path))
    for var in ("DATABASE_URL", "LTI_TOOL_SECRET_KEY", "LTI_TOOL_TOOL_URL", "LTI_TOOL_ENV"):
        monkeypatch.delenv(var, raising=False)
    return path


def test_reads_uppercase_keys_only(config_file):
    config_file.write_text(GOOD + 'lowercase = "ignored"\nLOG_LEVEL = "DEBUG"\n')
    config = load_config()
    assert config["LOG_LEVEL"] == "DEBUG"
    assert "lowercase" not in config


def test_environment_overrides_the_file(config_file, monkeypatch):
    config_file.write_text(GOOD)
    monkeypatch.setenv("LTI_TOOL_LAUNCH_SESSION_MINUTES", "30")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    config = load_config()
    assert config["LAUNCH_SESSION_MINUTES"] == 30
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_missing_file_is_explained(config_file):
    with pytest.raises(ConfigError, match="No configuration file at .*config.toml"):
        load_config()


@pytest.mark.parametrize("key", ["SECRET_KEY", "TOOL_URL"])
def test_missing_required_key_names_key_and_file(config_file, key):
    config_file.write_text("\n".join(
        line for line in GOOD.splitlines() if not line.startswith(key)
    ))
    with pytest.raises(ConfigError) as error:
        load_config()
    assert key in str(error.value) and str(config_file) in str(error.value)


@pytest.mark.parametrize(
    "line, words",
    [
        ('SECRET_KEY = "short"', "SECRET_KEY must be at least 32"),
        ('TOOL_URL = "ftp://x"', "TOOL_URL must be"),
        ('ENV = "staging"', "ENV must be one of"),
        ('LAUNCH_SESSION_MINUTES = -1', "LAUNCH_SESSION_MINUTES must be"),
        ('KEY_BITS = 1024', "KEY_BITS must be at least 2048"),
    ],
)
def test_invalid_values_are_refused(config_file, line, words):
    key = line.split(" ", 1)[0]
    kept = [existing for existing in GOOD.splitlines() if not existing.startswith(key)]
    config_file.write_text("\n".join([*kept, line]) + "\n")
    with pytest.raises(ConfigError, match=words):
        load_config()


def test_production_requires_https(config_file):
    config_file.write_text(GOOD.replace('"development"', '"production"'))
    with pytest.raises(ConfigError, match="https in production"):
        load_config()


def test_invalid_toml_names_the_file(config_file):
    config_file.write_text("SECRET_KEY = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()


def test_initial_config_gets_a_fresh_secret_and_is_never_overwritten(tmp_path, monkeypatch):
    path = tmp_path / "instance" / "config.toml"
    monkeypatch.setenv("LTI_TOOL_CONFIG", str(path))
    assert write_initial_config(path, "http://127.0.0.1:5000")
    first = path.read_text()
    assert not write_initial_config(path, "http://127.0.0.1:5000")
    assert path.read_text() == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    config = load_config()
    assert len(config["SECRET_KEY"]) >= 48 and config["ENV"] == "development"
    other = tmp_path / "other.toml"
    write_initial_config(other, "http://127.0.0.1:5000")
    assert other.read_text() != first


MAIL = 'MAIL_HOST = "smtp.example.edu"\nMAIL_FROM = "DMD <dmd@example.edu>"\n'


def test_mail_settings_are_read_and_need_a_from_address(config_file):
    config_file.write_text(GOOD + MAIL + 'MAIL_PORT = 465\nMAIL_SECURITY = "ssl"\n')
    config = load_config()
    assert (config["MAIL_PORT"], config["MAIL_SECURITY"]) == (465, "ssl")
    config_file.write_text(GOOD + 'MAIL_HOST = "smtp.example.edu"\n')
    with pytest.raises(ConfigError, match=r"config.toml: MAIL_FROM must be the address"):
        load_config()


@pytest.mark.parametrize("line, words", [
    ('MAIL_SECURITY = "tls"', "MAIL_SECURITY must be one of starttls, ssl, none"),
    ("MAIL_PORT = 0", "MAIL_PORT must be a whole number from 1 to 65535"),
    ('MAIL_PORT = "587"', "MAIL_PORT must be a whole number"),
    ("MAIL_REMINDER_HOURS = 0", "MAIL_REMINDER_HOURS must be a whole number from 1"),
    ('MAIL_FROM = "nobody"', "MAIL_FROM must be the address"),
])
def test_unusable_mail_settings_are_refused(config_file, line, words):
    name = line.split(" ")[0]
    mail = "\n".join(x for x in MAIL.splitlines() if not x.startswith(name))
    config_file.write_text(GOOD + mail + "\n" + line + "\n")
    with pytest.raises(ConfigError, match=words):
        load_config()


def test_a_password_is_never_sent_in_clear_in_production(config_file):
    production = GOOD.replace('"development"', '"production"').replace("http://", "https://")
    config_file.write_text(production + MAIL + 'MAIL_SECURITY = "none"\nMAIL_USER = "dmd"\n')
    with pytest.raises(ConfigError, match="MAIL_SECURITY \"none\" would send MAIL_PASSWORD"):
        load_config()
    # Without a mail server, the mail keys are not checked at all.
    config_file.write_text(GOOD + 'MAIL_SECURITY = "tls"\n')
    assert load_config()["MAIL_HOST"] == ""

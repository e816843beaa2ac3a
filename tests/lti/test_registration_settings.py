"""The settings of registration, unknown deployments and key rotation: defaults, and
start-up refusals that name the key and the file (config.py)."""

from __future__ import annotations

import pytest

from lti_tool.config import ConfigError, load_config

GOOD = 'SECRET_KEY = "{}"\nTOOL_URL = "http://127.0.0.1:5000"\nENV = "development"\n'.format(
    "s" * 40
)


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    monkeypatch.setenv("LTI_TOOL_CONFIG", str(path))
    for var in ("DATABASE_URL", "LTI_TOOL_SECRET_KEY", "LTI_TOOL_TOOL_URL", "LTI_TOOL_ENV",
                "LTI_TOOL_REGISTRATION_MODE", "LTI_TOOL_REGISTRATION_ALLOWED_ISSUERS"):
        monkeypatch.delenv(var, raising=False)
    return path


def test_defaults(config_file):
    config_file.write_text(GOOD)
    config = load_config()
    assert config["REGISTRATION_MODE"] == "invitation"
    assert config["REGISTRATION_ALLOWED_ISSUERS"] == []
    assert config["REGISTRATION_INVITE_HOURS"] == 72
    assert config["UNKNOWN_DEPLOYMENTS"] == "refuse"
    assert config["KEY_ROTATION_OVERLAP_HOURS"] == 48


@pytest.mark.parametrize(
    "line, key",
    [
        ('REGISTRATION_MODE = "everyone"', "REGISTRATION_MODE"),
        ('UNKNOWN_DEPLOYMENTS = "maybe"', "UNKNOWN_DEPLOYMENTS"),
        ('REGISTRATION_ALLOWED_ISSUERS = "https://moodle.example.edu"',
         "REGISTRATION_ALLOWED_ISSUERS"),
        ('REGISTRATION_ALLOWED_ISSUERS = ["moodle.example.edu"]', "REGISTRATION_ALLOWED_ISSUERS"),
        ('REGISTRATION_MODE = "allowlist"', "REGISTRATION_ALLOWED_ISSUERS"),
        ("REGISTRATION_INVITE_HOURS = 0", "REGISTRATION_INVITE_HOURS"),
        ("KEY_ROTATION_OVERLAP_HOURS = -1", "KEY_ROTATION_OVERLAP_HOURS"),
        ('KEY_ROTATION_OVERLAP_HOURS = "48"', "KEY_ROTATION_OVERLAP_HOURS"),
        ("KEY_ROTATION_OVERLAP_HOURS = true", "KEY_ROTATION_OVERLAP_HOURS"),
    ],
)
def test_a_wrong_value_stops_start_up_naming_the_key_and_file(config_file, line, key):
    config_file.write_text(GOOD + line + "\n")
    with pytest.raises(ConfigError, match=key) as refused:
        load_config()
    assert str(config_file) in str(refused.value)


def test_allowlist_from_the_environment(config_file, monkeypatch):
    config_file.write_text(GOOD + 'REGISTRATION_MODE = "allowlist"\n')
    monkeypatch.setenv("LTI_TOOL_REGISTRATION_ALLOWED_ISSUERS", '["https://moodle.example.edu/"]')
    config = load_config()
    assert config["REGISTRATION_ALLOWED_ISSUERS"] == ["https://moodle.example.edu"]


def test_the_example_file_documents_every_new_key():
    from lti_tool.config import PROJECT_ROOT

    example = (PROJECT_ROOT / "config.example.toml").read_text()
    for key in ("REGISTRATION_MODE", "REGISTRATION_ALLOWED_ISSUERS", "REGISTRATION_INVITE_HOURS",
                "UNKNOWN_DEPLOYMENTS", "KEY_ROTATION_OVERLAP_HOURS"):
        assert f"\n{key} = " in example

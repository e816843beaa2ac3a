"""A small, strict LTI 1.3 platform (a fake Moodle 4.5) for `make run` and the test suite.

It is its own Flask application and talks to the tool only over HTTP; nothing here
imports the tool.
"""

from .app import create_platform_app
from .platform import DevPlatform

__all__ = ["DevPlatform", "create_platform_app"]

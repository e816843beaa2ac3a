"""gunicorn's access log with secrets masked (deploy/gunicorn.conf.py names this class).

Every atom an access_log_format can use goes through lti_tool.log_masking.mask: the request
line (`%(r)s`), path and query (`%(U)s`, `%(q)s`), the Referer (`%(f)s`: a same-origin
Referer carries the previous page's token), environ values (`%({raw_uri}e)s`), and the
secret headers (`%({x-launch-token}i)s`, Authorization, Cookie) are replaced entirely.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from lti_tool.log_masking import MASK, SECRET_HEADERS, mask

_SECRET_ATOMS = {f"{{{name}}}i" for name in SECRET_HEADERS}


class MaskingLogger(Logger):
    """gunicorn's Logger, whose access-log atoms never hold a token."""

    def atoms(self, resp, req, environ, request_time):
        """gunicorn's atoms, masked."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in _SECRET_ATOMS and value not in (None, "", "-"):
                atoms[key] = MASK
            elif isinstance(value, str):
                atoms[key] = mask(value)
        return atoms

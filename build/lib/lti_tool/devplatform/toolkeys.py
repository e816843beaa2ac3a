"""The tool's public keys, fetched from its JWKS URL, and verification of JWTs the tool signs."""

from __future__ import annotations

import threading

import jwt
import requests

JWKS_TIMEOUT_SECONDS = 5


class ToolJWTError(Exception):
    """A JWT from the tool that must be refused; the message says why."""


class ToolKeySet:
    """A cache of the tool's JWKS; an unknown kid triggers exactly one refetch."""

    def __init__(self, jwks_url: str):
        self.jwks_url = jwks_url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The tool's key with this kid, refetching the JWKS once if it is not cached."""
        with self._lock:
            if kid not in self._keys:
                # Tools rotate keys: a kid we have not seen may be new, so look once more.
                self._keys = self._fetch()
            if kid not in self._keys:
                raise ToolJWTError(f"kid {kid!r} is not in the tool's JWKS at {self.jwks_url}")
            return self._keys[kid]

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            response = requests.get(self.jwks_url, timeout=JWKS_TIMEOUT_SECONDS)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ToolJWTError(
                f"could not fetch the tool's JWKS from {self.jwks_url}: {exc}"
            ) from exc
        keys = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if entry.get("kid") and entry.get("kty") == "RSA":
                try:
                    keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256")
                except jwt.PyJWKError:
                    continue
        return keys

    def verify(self, token: str, *, audience: str, required: tuple[str, ...]) -> dict:
        """Claims of an RS256 JWT signed by the tool: kid required, aud and exp checked."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise ToolJWTError(f"not a JWT: {exc}") from exc
        if header.get("alg") != "RS256":
            raise ToolJWTError(f"alg must be RS256, got {header.get('alg')!r}")
        kid = header.get("kid")
        if not kid:
            raise ToolJWTError("the JWT header has no kid")
        key = self.key_for(kid)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=audience,
                options={"require": list(required), "verify_iat": True},
            )
        except jwt.PyJWTError as exc:
            raise ToolJWTError(f"JWT refused: {exc}") from exc

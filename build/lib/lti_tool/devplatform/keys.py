"""The platform's RSA key: generated into DATA_DIR on first start, published as a JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from jwt.utils import base64url_encode

KEY_FILE = "platform_private_key.pem"


class PlatformKey:
    """One RS256 signing key with a stable kid (its RFC 7638 thumbprint)."""

    def __init__(self, private_key: rsa.RSAPrivateKey):
        self._private_key = private_key
        self.public_key = private_key.public_key()
        public_jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
        self.kid = jwk_thumbprint(public_jwk)
        self.public_jwk = {**public_jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    @classmethod
    def load_or_create(cls, data_dir: Path) -> PlatformKey:
        """Read DATA_DIR/platform_private_key.pem, creating it (mode 0600) when absent."""
        path = Path(data_dir) / KEY_FILE
        if not path.exists():
            # O_EXCL: when two processes start at once, only one writes the key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_new_private_pem())
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        return cls(private_key)

    @classmethod
    def replace(cls, data_dir: Path) -> PlatformKey:
        """A new key written over DATA_DIR/platform_private_key.pem (key rotation)."""
        path = Path(data_dir) / KEY_FILE
        pem = _new_private_pem()
        # Write beside the key and rename: the file is never half written nor world-readable.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.replace(temporary, path)
        return cls(serialization.load_pem_private_key(pem, password=None))

    def jwks(self) -> dict:
        """The public key set served at certs.php."""
        return {"keys": [self.public_jwk]}

    def sign(self, claims: dict, headers: dict | None = None) -> str:
        """RS256-sign claims; headers replace the default {"kid": ...} header entirely.

        The signature is always RS256, whatever ``alg`` the headers claim, so tests can
        forge an HS256 header; ``"alg": "none"`` gives an unsigned token (``header.payload.``).
        """
        header = {"typ": "JWT", "alg": "RS256"}
        header.update({"kid": self.kid} if headers is None else headers)
        signing_input = f"{_b64json(header)}.{_b64json(claims)}".encode()
        if header["alg"] == "none":
            return signing_input.decode() + "."
        signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input, self._private_key)
        return f"{signing_input.decode()}.{base64url_encode(signature).decode()}"


def _new_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _b64json(value: dict) -> str:
    return base64url_encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def jwk_thumbprint(jwk: dict) -> str:
    """RFC 7638 thumbprint of an RSA public JWK."""
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

"""pylti1p3's tool configuration read from Platform and Deployment rows.

One tool serves many platforms, and one issuer may have many client ids (Canvas cloud
uses one issuer for every institution), so every lookup is by (issuer, client id).
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.identity.models import Deployment, Platform
from lti_tool.lti import keys


def find_platform(issuer: str, client_id: str | None) -> Platform | None:
    """The registration for an issuer and client id; without a client id, the only one."""
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        return db.session.scalar(query.where(Platform.client_id == client_id))
    rows = db.session.scalars(query.limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def find_deployment(platform: Platform, deployment_id: str) -> Deployment | None:
    """A known deployment of that platform."""
    return db.session.scalar(
        select(Deployment).where(
            Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id
        )
    )


def registration_for(platform: Platform) -> Registration:
    """A pylti1p3 Registration carrying the platform's URLs and the tool's signing key."""
    kid, private_pem = keys.signing_key()
    pair = next(k for k in keys.published_keys() if k.kid == kid)
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
        .set_tool_private_key(private_pem)
        .set_tool_public_key(keys.public_pem(pair))
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    return registration


class DatabaseToolConf(ToolConfAbstract):
    """Registrations from the database; every issuer may have many client ids."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        """Never: lookups always go by (issuer, client id)."""
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        """Always (see check_iss_has_one_client)."""
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        """Only used by old-style configurations; refuse rather than guess."""
        raise NotImplementedError("registrations are found by issuer and client id")

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration | None:
        """The registration for (issuer, client id), or None."""
        platform = find_platform(iss, client_id)
        return registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        """Only used by old-style configurations."""
        raise NotImplementedError("deployments are found by issuer and client id")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        """A known deployment for (issuer, client id, deployment id), or None."""
        platform = find_platform(iss, client_id)
        if platform is None or find_deployment(platform, deployment_id) is None:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)

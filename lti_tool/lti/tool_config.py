"""pylti1p3's tool configuration read from Platform and Deployment rows.

One tool serves many platforms, and one issuer may have many client ids (Canvas cloud
uses one issuer for every institution), so every lookup is by (issuer, client id).
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti_tool.identity.models import Platform
from lti_tool.lti import registry
from lti_tool.lti.registry import DeploymentRecord, PlatformRecord


def find_platform(
    issuer: str, client_id: str | None, *, for_launch: bool = True
) -> PlatformRecord | None:
    """The registration for an issuer and client id; without a client id, the only one.

    Kept in memory (see registry.py); `for_launch=False` lets a login use a copy up to
    two seconds old."""
    return registry.platform(issuer, client_id, for_launch=for_launch)


def find_deployment(platform: PlatformRecord, deployment_id: str) -> DeploymentRecord | None:
    """A known deployment of that platform."""
    return platform.deployment(deployment_id)


def registration_for(platform: PlatformRecord | Platform) -> Registration:
    """A pylti1p3 Registration carrying the platform's URLs and the tool's signing key."""
    return registry.registration(platform)


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

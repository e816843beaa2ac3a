"""Which LMS line item an activity's scores go to: the launch's, one found, or one created.

Moodle names the line item in the launch only when the activity has exactly one grade item;
otherwise the tool looks for one tagged with the resource link, and creates one when none
exists and the platform granted the column-management (lineitem) scope. When none can be had
the reason is kept for mentors, never swallowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.gradebook.settings import DEFAULT_MAXIMUM
from lti_tool.i18n import lazy_gettext as _l
from lti_tool.identity.models import ResourceLink
from lti_tool.lti.services import (
    LINEITEM_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READ,
    SCOPE_SCORE,
    PlatformServiceError,
    ServiceClient,
)

#: The label and tag of line items the tool creates.
LINEITEM_LABEL = "Design Mindset"
LINEITEM_TAG = "design-mindset"


class NoLineItem(Exception):
    """Scores of this activity cannot reach the LMS gradebook; the message tells mentors why.

    The worker stores the message in English; pages show it with the `translated` filter.
    """


@dataclass(frozen=True)
class LineItemTarget:
    """A line item to post to; `maximum` is None when the tool may not read it."""

    url: str
    maximum: float | None


def static_problem(link: ResourceLink) -> str | None:
    """Why scores cannot be sent, as far as the launch claims alone tell; None if they may."""
    scopes = set(link.ags_scopes or [])
    if not (link.ags_lineitem or link.ags_lineitems):
        return _l(
            "The platform does not offer the grade service (AGS) for this activity, so scores "
            "stay in the tool. An LMS administrator can enable \"IMS LTI Assignment and Grade "
            "Services\" for the tool; launch the activity again afterwards."
        )
    if SCOPE_SCORE not in scopes:
        return _l(
            "The platform did not grant the tool the right to send scores (the AGS score "
            "scope). An LMS administrator can allow it in the tool's settings."
        )
    if not link.ags_lineitem and SCOPE_LINEITEM not in scopes and SCOPE_LINEITEM_READ not in scopes:
        return _l(
            "The platform did not name a grade item for this activity and did not let the tool "
            "look for one or create one (the AGS lineitem scopes). Set the activity to accept "
            "grades in the LMS, or ask an administrator to allow \"grade sync and column "
            "management\"."
        )
    return None


def _read_scope(link: ResourceLink) -> str | None:
    scopes = set(link.ags_scopes or [])
    for scope in (SCOPE_LINEITEM_READ, SCOPE_LINEITEM):
        if scope in scopes:
            return scope
    return None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def line_item_for(
    client: ServiceClient, link: ResourceLink, known_url: str | None, known_maximum: float | None
) -> LineItemTarget:
    """The line item for the activity: from the launch, or found, or created.

    `known_url`/`known_maximum` are what an earlier call found (GradeSettings); they save the
    platform a request per score. Raises NoLineItem, or PlatformServiceError when the
    platform fails to answer. Changes nothing in the database: the caller stores the answer
    after its own calls to the platform.
    """
    problem = static_problem(link)
    if problem:
        raise NoLineItem(problem)
    read_scope = _read_scope(link)
    if link.ags_lineitem:
        # The launch's claim always wins: the platform says where grades go.
        if link.ags_lineitem == known_url and known_maximum:
            return LineItemTarget(known_url, known_maximum)
        maximum = None
        if read_scope:
            response = client.call("GET", link.ags_lineitem, [read_scope], accept=LINEITEM_TYPE)
            maximum = _number(response.json().get("scoreMaximum"))
        return LineItemTarget(link.ags_lineitem, maximum)
    if known_url:
        return LineItemTarget(known_url, known_maximum)
    if read_scope:
        items = client.line_items(
            link.ags_lineitems, resource_link_id=link.resource_link_id, scopes=[read_scope]
        ) or client.line_items(
            # One the tool made earlier without the link (see below) carries its id instead.
            link.ags_lineitems, resource_id=link.resource_link_id, scopes=[read_scope]
        )
        items = [item for item in items if isinstance(item, dict) and item.get("id")]
        # Prefer the tool's own item when the activity has several.
        items.sort(key=lambda item: item.get("tag") != LINEITEM_TAG)
        if items:
            return LineItemTarget(items[0]["id"], _number(items[0].get("scoreMaximum")))
    if SCOPE_LINEITEM not in set(link.ags_scopes or []):
        raise NoLineItem(_l(
            "The activity has no grade item in the LMS, and the platform did not grant the tool "
            "the right to create one (the AGS lineitem scope, \"grade sync and column "
            "management\" in Moodle). Create a grade item for the activity, or ask an LMS "
            "administrator to allow column management."
        ))
    item = {"label": LINEITEM_LABEL, "scoreMaximum": DEFAULT_MAXIMUM,
            "resourceLinkId": link.resource_link_id, "resourceId": link.resource_link_id,
            "tag": LINEITEM_TAG}
    try:
        created = client.create_line_item(link.ags_lineitems, item)
    except PlatformServiceError as exc:
        # Canvas binds line items to assignments: a link that is not one (its course
        # navigation) answers 404, an assignment's link without an item 412. Without the
        # link, Canvas makes a column (an assignment) of its own.
        if exc.status not in (404, 412):
            raise
        del item["resourceLinkId"]
        created = client.create_line_item(link.ags_lineitems, item)
    if not isinstance(created, dict) or not created.get("id"):
        raise NoLineItem(
            _l("The platform created a grade item but did not say where it is (no id)."))
    return LineItemTarget(created["id"], _number(created.get("scoreMaximum")) or DEFAULT_MAXIMUM)

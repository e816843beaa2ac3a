"""PDF documents rendered on the server from the same data as the pages.

WeasyPrint turns an HTML template into a tagged PDF (PDF/UA-1: headings, tables and lists
carry their structure for screen readers) in the viewer's language. The documents are
self-contained (styles inline, the chart as inline SVG), so the renderer is given a URL
fetcher that refuses every URL: a PDF never makes the server fetch anything, whatever a
learner's name or a note contains.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from lti_tool.identity.models import Person, utcnow
from lti_tool.lti.session import LaunchContext
from lti_tool.mentoring.plan import Plan
from lti_tool.mentoring.timezones import Clock
from lti_tool.questionnaire.results import ResultsView

log = logging.getLogger(__name__)
PDF_MIMETYPE = "application/pdf"


class _NoFetching(URLFetcher):
    """Refuses every URL: the documents carry everything they need inline."""

    def fetch(self, url, headers=None):
        log.warning("a PDF document asked for %s; refused", url[:200])
        raise ValueError("documents fetch nothing")


def profile_pdf(launch: LaunchContext, learner: Person, view: ResultsView,
                now: datetime | None = None) -> bytes:
    """The learner's profile: chart, scores with their errors, strengths, areas, guidance."""
    return _pdf("report/profile.html", launch, learner=learner, view=view,
                made_dt=now or utcnow())


def plan_pdf(launch: LaunchContext, plan: Plan, clock: Clock,
             now: datetime | None = None) -> bytes:
    """The learner's development plan: goals, actions, sessions (what the learner sees)."""
    now = now or utcnow()
    return _pdf("report/plan.html", launch, learner=plan.learner, plan=plan, clock=clock,
                today=clock.today(now), made_dt=now)


def render_html(html: str) -> bytes:
    """A tagged PDF of an HTML document; nothing it names is fetched."""
    return HTML(string=html, url_fetcher=_NoFetching()).write_pdf(pdf_variant="pdf/ua-1")


def _pdf(template: str, launch: LaunchContext, **context) -> bytes:
    language = (launch.locale or "en").split("-")[0].split("_")[0]
    return render_html(render_template(template, launch=launch, lang=language, **context))


def filename(kind: str, moment: datetime) -> str:
    """An ASCII file name such as profile-2026-12-03.pdf (names stay out of file names)."""
    return f"{kind}-{moment:%Y-%m-%d}.pdf"

"""`flask questionnaire ...`: commands for whoever maintains the instrument."""

from __future__ import annotations

import click

from lti_tool.questionnaire.instrument import UnknownInstrument
from lti_tool.questionnaire.item_analysis import item_analysis, report_lines
from lti_tool.questionnaire.reference import reference_answer_sets, versions_answered
from lti_tool.questionnaire.versions import get_instrument


@click.group("questionnaire")
def questionnaire_cli() -> None:
    """The questionnaire's instruments and their figures."""


@questionnaire_cli.command("item-analysis")
@click.option("--instrument", "wanted", default=None, metavar="ID@VERSION",
              help="Only this version, e.g. design_mindset@1 (default: every version answered).")
def item_analysis_command(wanted: str | None) -> None:
    """Alpha with Feldt's 95% interval and corrected item-total correlations per dimension,
    over the installation's latest complete, unflagged response of each person."""
    versions = versions_answered()
    if wanted is not None:
        instrument_id, _, version = wanted.partition("@")
        if not version.isdigit():
            raise click.BadParameter("write it as ID@VERSION, e.g. design_mindset@1",
                                     param_hint="--instrument")
        versions = [(instrument_id, int(version))]
    if not versions:
        click.echo("No submitted responses yet.")
        return
    for instrument_id, version in versions:
        try:
            instrument = get_instrument(instrument_id, version)
        except UnknownInstrument as exc:
            raise click.BadParameter(str(exc), param_hint="--instrument") from None
        analysis = item_analysis(instrument, reference_answer_sets(instrument))
        for line in report_lines(analysis, instrument):
            click.echo(line)

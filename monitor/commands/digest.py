"""``classroom-monitor digest --week 2026-W49 [--dry-run]``: mail the weekly digest to every teacher now."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from monitor.config import Settings
from monitor.store import DatabaseError, migrated_engine, session_factory


@click.command()
@click.option("--week", "week", default=None, help="ISO week, e.g. 2026-W49 (default: last week).")
@click.option("--dry-run", is_flag=True, help="Print each teacher's digest instead of mailing it.")
@click.pass_obj
def digest(settings: Settings, week: str | None, dry_run: bool) -> None:
    """Mail each teacher the digest of a week (each teacher gets a week once; serve sends it on Mondays)."""
    from monitor.mail import MailError
    from monitor.reports.digest import DigestError, last_week, send_digests
    from monitor.store.site_settings import school_zone

    try:
        engine = migrated_engine(settings.db_url, writer=True)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        factory = session_factory(engine)
        if week is None:
            with factory() as db:
                week = last_week(datetime.now(UTC), school_zone(db))
        try:
            outcome = send_digests(
                factory, week, trigger="cli", smtp_password=settings.smtp_password, dry_run=dry_run
            )
        except (DigestError, MailError) as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    if dry_run:
        for d in outcome.digests:
            click.echo(f"To: {d.mail.to}\nSubject: {d.mail.subject}\n\n{d.mail.text}\n")
    for to in outcome.sent:
        click.echo(f"{week}: sent to {to}")
    for to in outcome.already:
        click.echo(f"{week}: already sent to {to}")
    for to in outcome.quiet:
        click.echo(f"{week}: no lessons for {to}")
    for to, why in outcome.errors.items():
        click.echo(f"{week}: NOT sent to {to}: {why}", err=True)
    if not (outcome.digests or outcome.already or outcome.quiet):
        click.echo(f"{week}: no teacher has an e-mail address (set one on the Users page)", err=True)
    if outcome.errors:
        raise SystemExit(1)

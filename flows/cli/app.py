"""The `onboarding` command: what account managers do with Polaris onboardings,
from a terminal. Each command answers in lines for a person, or in JSON with --json.

    onboarding start --account 7 --polaris-name ... --site "NAME|ADDRESS|REFERENCE"
    onboarding status [RUN]
    onboarding list --waiting
    onboarding store-ids RUN --store "The Crown=PLR-100" --store "12=PLR-200"
    onboarding status --account 7          (its onboardings and Polaris credentials)
    onboarding rotate --account 7 [--revoke-old-now]
    onboarding offboard --account 7 --merchant-email owner@crown.example [--keep-store-ids]

The Prefect server is PREFECT_API_URL's (default: the local one `scripts/up` runs);
the ledger is ONBOARDING_LEDGER_URL's, as for the flows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.cli import render
from flows.cli.errors import CliError
from flows.cli.offboarding import OffboardRequest, follow, start_offboarding
from flows.cli.onboarding_record import read_record
from flows.cli.prefect_api import (
    DEFAULT_API_URL,
    find_run,
    paused_runs,
    prefect_client,
    recent_runs,
)
from flows.cli.rotating import account_credentials, start_rotation
from flows.cli.rotating import revoke_old_now as revoke_old_now_of
from flows.cli.runs import RunView, read_view
from flows.cli.starting import StartRequest, start_onboarding
from flows.cli.store_id_entry import submit_store_ids
from flows.cli.store_id_link import read_link
from flows.ledger import LedgerError

app = typer.Typer(
    help="Polaris onboardings: start one, follow it, enter Polaris's store IDs; offboard.",
    no_args_is_help=True,
    add_completion=False,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Answer in JSON.")]
Limit = Annotated[int, typer.Option(min=1, help="How many recent runs to show.")]


@app.callback()
def _prefect_server(ctx: typer.Context) -> None:
    # Unset, PREFECT_API_URL would make Prefect's client start a throwaway server
    # of its own, which knows no onboarding.
    if not PREFECT_API_URL.value():
        ctx.with_resource(temporary_settings(updates={PREFECT_API_URL: DEFAULT_API_URL}))


@contextmanager
def _answering(as_json: bool) -> Iterator[None]:
    """Known failures end the command with their message and exit status 1."""
    try:
        yield
    except LedgerError as error:
        problem = CliError(f"{error}. ONBOARDING_LEDGER_URL says where the ledger is.")
        render.error(problem, as_json)
        raise typer.Exit(code=1) from None
    except CliError as error:
        render.error(error, as_json)
        raise typer.Exit(code=1) from None


@app.command()
def start(
    account: Annotated[int, typer.Option(help="The merchant's account ID in the ledger.")],
    polaris_name: Annotated[str, typer.Option(help="The Polaris account manager's name.")],
    polaris_email: Annotated[str, typer.Option(help="Where the encrypted file is emailed.")],
    polaris_mobile: Annotated[
        str, typer.Option(help="Where its password is texted, in E.164 (+447700900123).")
    ],
    site: Annotated[
        list[str] | None,
        typer.Option(help='A site to add first, as "NAME|ADDRESS|REFERENCE"; repeat per site.'),
    ] = None,
    product: Annotated[
        int | None, typer.Option(help="In-store gift product (default: the account's).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start an onboarding, its parameters checked first; prints its Prefect UI link."""
    request = StartRequest(
        account, polaris_name, polaris_email, polaris_mobile, site or [], product
    )
    with _answering(as_json):
        started = start_onboarding(request)
    if as_json:
        render.emit_json(started)
    else:
        render.started(started)


@app.command()
def status(
    run: Annotated[
        str | None,
        typer.Argument(help="A run's ID (or its first characters) or name; default: recent runs."),
    ] = None,
    account: Annotated[
        int | None,
        typer.Option(help="An account: its onboardings, rotations and Polaris credentials."),
    ] = None,
    limit: Limit = 20,
    as_json: JsonFlag = False,
) -> None:
    """One run's stages and what it is waiting for; without RUN, the recent runs."""
    if account is not None:
        with _answering(as_json):
            credentials = account_credentials(account)
        if as_json:
            render.emit_json(credentials)
        else:
            render.account_credentials(credentials)
        return
    if run is None:
        _show_runs(waiting=False, limit=limit, as_json=as_json)
        return
    with _answering(as_json), prefect_client() as client:
        found = find_run(client, run)
        view = read_view(client, found, with_stages=True)
    view = dataclasses.replace(
        view, store_id_link=read_link(view.id), onboarding=read_record(found)
    )
    if as_json:
        render.emit_json(view)
    else:
        render.run_detail(view)


@app.command("list")
def list_runs(
    waiting: Annotated[
        bool, typer.Option("--waiting", help="Only runs waiting for Polaris's store IDs.")
    ] = False,
    limit: Limit = 20,
    as_json: JsonFlag = False,
) -> None:
    """Recent onboarding runs; with --waiting, those waiting on Polaris, oldest first."""
    _show_runs(waiting=waiting, limit=limit, as_json=as_json)


def _show_runs(waiting: bool, limit: int, as_json: bool) -> None:
    with _answering(as_json), prefect_client() as client:
        if waiting:
            views = [read_view(client, run) for run in paused_runs(client)]
            views = sorted(
                (v for v in views if v.situation.waiting_for == "store_ids"), key=_waiting_since
            )
        else:
            views = [read_view(client, run) for run in recent_runs(client, limit)]
    if as_json:
        render.emit_json(views)
    else:
        render.run_list(views, waiting_only=waiting)


def _waiting_since(view: RunView) -> datetime:
    return view.situation.since or datetime.max.replace(tzinfo=UTC)


@app.command("store-ids")
def store_ids(
    run: Annotated[
        str, typer.Argument(help="The run's ID (or its first characters) or exact name.")
    ],
    store: Annotated[
        list[str],
        typer.Option(
            help='A site and its Polaris store ID, "SITE=STORE_ID" (SITE: the site\'s ID or '
            "exact name); one per site."
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Give a waiting run Polaris's store IDs, checked first as the flow checks them."""
    with _answering(as_json), prefect_client() as client:
        submitted = submit_store_ids(client, run, store)
    if as_json:
        render.emit_json(submitted)
    else:
        render.submitted(submitted)


@app.command()
def rotate(
    account: Annotated[int, typer.Option(help="The merchant's account ID in the ledger.")],
    revoke_old_now: Annotated[
        bool,
        typer.Option(
            "--revoke-old-now",
            help="Do not start one: tell the waiting rotation to revoke the old credential now.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Rotate the account's Polaris credential (a new file and text to Polaris; the old
    credential works until the tills use the new one or the grace period ends)."""
    with _answering(as_json):
        if revoke_old_now:
            with prefect_client() as client:
                revoked = revoke_old_now_of(client, account)
            render.emit_json(revoked) if as_json else render.old_revoked(revoked)
            return
        started = start_rotation(account)
    render.emit_json(started) if as_json else render.rotation_started(started)


@app.command()
def offboard(
    account: Annotated[int, typer.Option(help="The merchant's account ID in the ledger.")],
    merchant_email: Annotated[
        str, typer.Option(help="Where the merchant's confirmation is emailed.")
    ],
    keep_store_ids: Annotated[
        bool,
        typer.Option("--keep-store-ids", help="Keep the sites' store IDs (default: clear them)."),
    ] = False,
    polaris_email: Annotated[
        str | None,
        typer.Option(help="Polaris's contact for its confirmation (default: the onboarding's)."),
    ] = None,
    polaris_name: Annotated[
        str | None, typer.Option(help="That contact's name (default: the onboarding's).")
    ] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to follow the run before answering.")
    ] = 300,
    as_json: JsonFlag = False,
) -> None:
    """Take a merchant off Polaris: revoke its Polaris credentials, clear (or keep) its
    store IDs and email Polaris and the merchant. Safe to run again: a finished one
    changes nothing."""
    request = OffboardRequest(account, merchant_email, keep_store_ids, polaris_email, polaris_name)
    with _answering(as_json):
        started = start_offboarding(request)
        if not as_json:
            render.offboarding_started(started)
        outcome = follow(started, wait)
        if outcome.state_type in {"FAILED", "CRASHED", "CANCELLED"}:
            raise CliError(
                f"The offboarding run {outcome.id} ended {outcome.state}: {outcome.message}. "
                f"See {outcome.url}"
            )
    if as_json:
        render.emit_json(outcome)
    else:
        render.offboarding_outcome(outcome, wait)

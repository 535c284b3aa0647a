"""`onboarding status`: whether the run's store-ID link was emailed, and whether (and
when) Polaris used it, as the ledger recorded it. Best effort: a ledger that cannot
answer leaves the line out, and the rest of the status stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from flows.ledger import LedgerAdmin, LedgerError
from flows.settings import get_settings
from flows.store_id_link import describe


@dataclass(frozen=True)
class StoreIdLinkView:
    state: str
    emailed_at: datetime | None
    used_at: datetime | None
    expires_at: datetime
    text: str


def read_link(run_id: UUID) -> StoreIdLinkView | None:
    try:
        with LedgerAdmin(get_settings()) as ledger:
            links = ledger.store_id_links(flow_run_id=str(run_id))
    except LedgerError:
        return None
    if not links:
        return None
    link = links[-1]
    return StoreIdLinkView(
        state=link.state,
        emailed_at=link.emailed_at,
        used_at=link.used_at,
        expires_at=link.expires_at,
        text=describe(link).removeprefix("Store-ID link: ").replace("**", ""),
    )

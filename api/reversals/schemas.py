"""Bodies of the void by the till's own reference (till-api.md, "Void by the till's own
reference (for timeouts)")."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, model_validator

from api.core.schemas import StoreId, TillReference


class VoidRequest(BaseModel):
    store_id: StoreId
    original_reference: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[ -~]{1,64}$",
        description="The reference the till sent with the sale, redemption or top-up to "
        "void, at the same store_id. The ledger may never have received it.",
    )
    reference: TillReference

    @model_validator(mode="after")
    def _names_another_request(self) -> Self:
        # Its own reference would be the one it voids: no answer could be kept for it.
        if self.reference == self.original_reference:
            raise ValueError("reference must differ from original_reference")
        return self


class VoidOut(BaseModel):
    transaction_id: str = Field(description="This void's own transaction ID.")
    reversed_transaction_id: str | None = Field(
        description="The transaction undone; null when the ledger never received it."
    )
    code: str | None = Field(
        description="The voucher of the transaction undone; null when there was none."
    )
    amount: int = Field(description="Minor units undone (0 when nothing had moved).")
    balance: int | None = Field(
        description="Minor units on the voucher after the void; null when there was none."
    )
    currency: str

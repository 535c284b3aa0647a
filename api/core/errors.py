"""Domain errors. Domain code raises these; one handler (api.core.problems) turns
them into RFC 9457 problem details. ``code`` is the stable, machine-readable part.

    LedgerError
    ├── Unauthorized                 401 unauthorized
    ├── TooManyAttempts              429 too_many_attempts   (+ Retry-After)
    ├── InvalidRequest               422 invalid_request
    ├── RequestTooLarge              413 request_too_large
    ├── UnknownStore                 403 unknown_store
    ├── NotFound                     404
    │   ├── VoucherNotFound              voucher_not_found   (counts for the throttle)
    │   ├── ProductNotFound              product_not_found
    │   ├── TransactionNotFound          transaction_not_found
    │   ├── AccountNotFound              account_not_found        (admin)
    │   ├── SiteNotFound                 site_not_found           (admin)
    │   └── IntegrationUserNotFound      integration_user_not_found (admin)
    ├── Refusal                      409, a business answer: recorded and replayed
    │   ├── InsufficientFunds            insufficient_funds  (+ balance)
    │   ├── VoucherExpired               voucher_expired
    │   ├── VoucherCancelled             voucher_cancelled
    │   ├── BalanceLimitExceeded         balance_limit_exceeded
    │   ├── VoucherInUse                 voucher_in_use
    │   ├── AlreadyReversed              already_reversed
    │   └── NotReversible                not_reversible
    ├── IdempotencyConflict          409 idempotency_conflict (never recorded)
    ├── TransactionVoided            409 transaction_voided  (the reference was voided
    │                                                          before the ledger got it)
    ├── Unavailable                  503 unavailable         (+ Retry-After; the database
    │                                                          could not be reached)
    └── Conflict                     409, admin-side conflicts (store IDs, site references)
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        return {
            "type": f"/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class Unauthorized(LedgerError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class TooManyAttempts(LedgerError):
    status, code, title = 429, "too_many_attempts", "Too many failed look-ups"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class InvalidRequest(LedgerError):
    status, code, title = 422, "invalid_request", "Invalid request"


class RequestTooLarge(LedgerError):
    status, code, title = 413, "request_too_large", "Request too large"


class UnknownStore(LedgerError):
    status, code, title = 403, "unknown_store", "Unknown store"


class NotFound(LedgerError):
    status = 404


class VoucherNotFound(NotFound):
    code, title = "voucher_not_found", "Voucher not found"


class ProductNotFound(NotFound):
    code, title = "product_not_found", "Product not found"


class TransactionNotFound(NotFound):
    code, title = "transaction_not_found", "Transaction not found"


class AccountNotFound(NotFound):
    code, title = "account_not_found", "Account not found"


class SiteNotFound(NotFound):
    code, title = "site_not_found", "Site not found"


class IntegrationUserNotFound(NotFound):
    code, title = "integration_user_not_found", "Integration user not found"


class Refusal(LedgerError):
    """A business refusal: the ledger looked and said no. Recorded for replays."""

    status = 409


class InsufficientFunds(Refusal):
    code, title = "insufficient_funds", "Insufficient funds"

    def __init__(self, detail: str, balance: int) -> None:
        super().__init__(detail, balance=balance)


class VoucherExpired(Refusal):
    code, title = "voucher_expired", "Voucher expired"


class VoucherCancelled(Refusal):
    code, title = "voucher_cancelled", "Voucher cancelled"


class BalanceLimitExceeded(Refusal):
    code, title = "balance_limit_exceeded", "Balance limit exceeded"


class VoucherInUse(Refusal):
    code, title = "voucher_in_use", "Voucher in use"


class AlreadyReversed(Refusal):
    code, title = "already_reversed", "Already reversed"


class NotReversible(Refusal):
    code, title = "not_reversible", "Not reversible"


class IdempotencyConflict(LedgerError):
    status, code, title = 409, "idempotency_conflict", "Reference reused with another request"


class TransactionVoided(LedgerError):
    """A request whose reference the till voided (POST /v1/reversals) before the ledger
    received it: it moves nothing. The void's record answers it, so it is not recorded
    again."""

    status, code, title = 409, "transaction_voided", "Transaction voided"


class Unavailable(LedgerError):
    status, code, title = 503, "unavailable", "Temporarily unavailable"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Conflict(LedgerError):
    """An admin-side conflict; ``code`` is given per case (e.g. ``store_id_in_use``)."""

    status, title = 409, "Conflict"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.instance_code = code

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["type"] = f"/problems/{self.instance_code}"
        body["code"] = self.instance_code
        return body

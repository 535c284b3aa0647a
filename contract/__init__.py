"""The ledger's admin API contract: request and response models as plain pydantic."""

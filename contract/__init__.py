"""The ledger's admin API contract, shared by the ledger and its clients (the
onboarding flows): the request and response bodies as plain pydantic models, and the
development defaults both sides agree on.

It depends on pydantic (and email-validator) only: no FastAPI, no SQLAlchemy, nothing
of the ledger's, so a client that imports it loads none of the ledger's server code.
tests/contract/test_separation.py holds it to that.
"""

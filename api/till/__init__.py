"""The till API's path through the ledger (shared/till-api.md), in one place.

A till request goes:

    gate.TillRequestGate        the credential, from the process's cache of verified
                                credentials (authentication), before any body is read;
                                a body over 64 KB gets 413 unread
    FastAPI                     the body's shape (422, after the throttle: validation)
    the route (api/vouchers/endpoints.py, api/reversals/endpoints.py)
    backend.TillBackend         everything else in one trip to the database:
        postgres.PostgresTill   asyncpg; a write is one call of a function installed
                                by migration 0005, a balance check one SELECT
        sqlite.SqliteTill       the embedded default: the Python rules
                                (api/vouchers/service.py ...) on the event loop
    answers.TillAnswer          the HTTP answer (the recorded body, byte for byte)
    store_uses.StoreUses        after the answer, the credential's first use of the
                                store noted, once per process (a set look-up after)

Nothing here waits in a worker thread: the database is reached from the event loop.
"""

-- Revision 0005: the till's writes as PostgreSQL functions, so that each is one round
-- trip (the statements run inside the server, the Python process waits once).
--
-- These mirror the Python rules the SQLite path runs (api/vouchers/service.py,
-- api/reversals/service.py, api/idempotency/service.py, api/throttle/): the same checks
-- in the same order, the same answers. The till contract tests, the model-based test
-- and schemathesis run on both databases, so any difference between the two shows as a
-- failing test. Each write:
--   1. checks the caller (till_gate): credential not revoked (401), throttle (429),
--      the store's site (403);
--   2. finds (and locks) what the body names, or answers 404 (an unknown voucher counts
--      towards the throttle, atomically: till_voucher_not_found);
--   3. answers a reference the ledger has answered before from its record (a replay, a
--      tombstone, or 409 idempotency_conflict): till_replay;
--   4. applies the rules; a refusal (409) is recorded like a success;
--   5. records the answer (till_record). A twin under the same reference that committed
--      while this one worked (only possible where the two lock nothing in common) makes
--      the record's insert find it: the call raises LDG01 and is rolled back whole, and
--      the caller asks again, which then replays the twin's answer.
-- Every function returns (status, body, replayed, retry_after): body is the JSON text
-- answered, kept byte for byte in the idempotency record for replays.

-- A problem-details body (RFC 9457), as api/core/errors.py makes them. The titles and
-- statuses are the Python classes' (tests/ledger/till/test_postgres_functions.py checks).
CREATE FUNCTION till_problem(p_code text, p_detail text, p_balance bigint DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_balance IS NULL THEN
        json_build_object('type', '/problems/' || p_code, 'title', t.title, 'status', t.status,
                          'detail', p_detail, 'code', p_code)::text
    ELSE
        json_build_object('type', '/problems/' || p_code, 'title', t.title, 'status', t.status,
                          'detail', p_detail, 'code', p_code, 'balance', p_balance)::text
    END
    FROM (VALUES
        ('unauthorized', 'Unauthorized', 401),
        ('too_many_attempts', 'Too many failed look-ups', 429),
        ('unknown_store', 'Unknown store', 403),
        ('voucher_not_found', 'Voucher not found', 404),
        ('product_not_found', 'Product not found', 404),
        ('transaction_not_found', 'Transaction not found', 404),
        ('insufficient_funds', 'Insufficient funds', 409),
        ('voucher_expired', 'Voucher expired', 409),
        ('voucher_cancelled', 'Voucher cancelled', 409),
        ('balance_limit_exceeded', 'Balance limit exceeded', 409),
        ('voucher_in_use', 'Voucher in use', 409),
        ('already_reversed', 'Already reversed', 409),
        ('not_reversible', 'Not reversible', 409),
        ('idempotency_conflict', 'Reference reused with another request', 409),
        ('transaction_voided', 'Transaction voided', 409)
    ) AS t(code, title, status)
    WHERE t.code = p_code
$$;

-- RFC 3339 in UTC to the second, as the contract shows times.
CREATE FUNCTION till_rfc3339(p_at timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- The caller at a store: its account, or why it is refused (credential, throttle,
-- store, in the contract's order). The password was checked before the call against
-- p_password_hash (the ledger process keeps verified credentials); that the user is
-- not revoked and still has that hash is checked here, on every call. A hash that
-- changed answers status 0: the caller checks the password again and asks again.
CREATE FUNCTION till_gate(
    p_user_id integer, p_password_hash text, p_store_id text, p_window_start timestamptz,
    p_max_failures integer,
    OUT refusal_status integer, OUT refusal_body text, OUT retry_after integer,
    OUT account_id integer, OUT card_range text, OUT currency text, OUT balance_cap bigint,
    OUT site_id integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_revoked_at timestamptz;
    v_password_hash text;
    v_found boolean;
    v_throttling_at timestamptz;
BEGIN
    SELECT true, u.revoked_at, u.password_hash, a.id, a.card_range, a.currency, a.balance_cap,
           (SELECT f.failed_at FROM lookup_failures f
             WHERE f.integration_user_id = u.id AND f.failed_at > p_window_start
             ORDER BY f.failed_at DESC LIMIT 1 OFFSET p_max_failures - 1),
           (SELECT s.id FROM sites s WHERE s.account_id = a.id AND s.store_id = p_store_id)
      INTO v_found, v_revoked_at, v_password_hash, account_id, card_range, currency, balance_cap,
           v_throttling_at, site_id
      FROM integration_users u JOIN accounts a ON a.id = u.account_id
     WHERE u.id = p_user_id;
    IF v_found IS NULL OR v_revoked_at IS NOT NULL THEN
        refusal_status := 401;
        refusal_body := till_problem('unauthorized', 'Unknown or revoked credential.');
    ELSIF v_password_hash <> p_password_hash THEN
        refusal_status := 0;
    ELSIF v_throttling_at IS NOT NULL THEN
        -- Allowed again once that failure leaves the window.
        refusal_status := 429;
        refusal_body := till_problem('too_many_attempts',
            'Too many unknown voucher codes from this credential; try again later.');
        retry_after := greatest(1, ceil(extract(epoch FROM v_throttling_at - p_window_start)))::integer;
    ELSIF site_id IS NULL THEN
        refusal_status := 403;
        refusal_body := till_problem('unknown_store',
            'This store ID is not mapped to a site of your account.');
    END IF;
END $$;

-- Count one failed look-up unless the credential has had p_max_failures in the window:
-- NULL when counted, else the failure whose leaving the window reopens it (nothing is
-- counted then). Serialised per credential by its row lock, in every process and host.
CREATE FUNCTION till_count_failure(
    p_user_id integer, p_now timestamptz, p_window_start timestamptz, p_max_failures integer)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
    v_oldest timestamptz;
BEGIN
    PERFORM 1 FROM integration_users WHERE id = p_user_id FOR UPDATE;
    DELETE FROM lookup_failures
     WHERE integration_user_id = p_user_id AND failed_at <= p_window_start;
    SELECT count(*), min(n.failed_at) INTO v_count, v_oldest
      FROM (SELECT failed_at FROM lookup_failures
             WHERE integration_user_id = p_user_id AND failed_at > p_window_start
             ORDER BY failed_at DESC LIMIT p_max_failures) n;
    IF v_count >= p_max_failures THEN
        RETURN v_oldest;
    END IF;
    INSERT INTO lookup_failures (integration_user_id, failed_at) VALUES (p_user_id, p_now);
    RETURN NULL;
END $$;

-- The answer to an unknown (or malformed) voucher code: 404, counted by the throttle;
-- or 429 when parallel look-ups used the allowance up first.
CREATE FUNCTION till_voucher_not_found(
    p_user_id integer, p_now timestamptz, p_window_start timestamptz, p_max_failures integer,
    OUT status integer, OUT body text, OUT replayed boolean, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_throttling_at timestamptz;
BEGIN
    replayed := false;
    v_throttling_at := till_count_failure(p_user_id, p_now, p_window_start, p_max_failures);
    IF v_throttling_at IS NULL THEN
        status := 404;
        body := till_problem('voucher_not_found', 'No voucher with this code.');
    ELSE
        status := 429;
        body := till_problem('too_many_attempts',
            'Too many unknown voucher codes from this credential; try again later.');
        retry_after := greatest(1, ceil(extract(epoch FROM v_throttling_at - p_window_start)))::integer;
    END IF;
END $$;

-- The first answer to this reference at this store, when it has one: a replay (the
-- same request), the void's answer (a tombstone), or 409 idempotency_conflict.
CREATE FUNCTION till_replay(
    p_account_id integer, p_store_id text, p_reference text, p_fingerprint text,
    OUT status integer, OUT body text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SELECT request_hash, status_code, response_body INTO r
      FROM idempotency_records
     WHERE account_id = p_account_id AND store_id = p_store_id AND reference = p_reference;
    IF NOT FOUND THEN
        RETURN;
    ELSIF r.request_hash = 'voided' THEN
        status := r.status_code; body := r.response_body; replayed := false;
    ELSIF r.request_hash <> p_fingerprint THEN
        status := 409; replayed := false;
        body := till_problem('idempotency_conflict',
            'This reference was already used at this store for a different request.');
    ELSE
        status := r.status_code; body := r.response_body; replayed := true;
    END IF;
END $$;

-- Record the answer to a reference; see step 5 above.
CREATE FUNCTION till_record(
    p_account_id integer, p_store_id text, p_site_id integer, p_reference text,
    p_fingerprint text, p_status integer, p_body text, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idempotency_records
        (account_id, store_id, site_id, reference, request_hash, status_code, response_body,
         created_at)
    VALUES (p_account_id, p_store_id, p_site_id, p_reference, p_fingerprint, p_status, p_body,
            p_now)
    ON CONFLICT (account_id, store_id, reference) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'reference % was answered meanwhile', p_reference
            USING ERRCODE = 'LDG01';
    END IF;
END $$;

-- Before a 404 about what the body names (a product, a transaction): a reference voided
-- already answers 409 transaction_voided whatever its body said.
CREATE FUNCTION till_is_voided(p_account_id integer, p_store_id text, p_reference text)
RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT 1 FROM idempotency_records
                    WHERE account_id = p_account_id AND store_id = p_store_id
                      AND reference = p_reference AND request_hash = 'voided')
$$;

CREATE FUNCTION till_voided_problem() RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT till_problem('transaction_voided',
        'This reference was voided before the ledger received it; the request moved nothing.')
$$;

-- Redeem (p_kind 'redemption') or top up ('load') a voucher.
CREATE FUNCTION till_move(
    p_kind text, p_user_id integer, p_password_hash text, p_store_id text, p_code text,
    p_amount bigint,
    p_allow_partial boolean, p_reference text, p_fingerprint text, p_transaction_id text,
    p_now timestamptz, p_window_start timestamptz, p_max_failures integer,
    OUT status integer, OUT body text, OUT replayed boolean, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    g record;
    v record;
    r record;
    v_refusal text;
    v_taken bigint := p_amount;
    v_delta bigint;
BEGIN
    replayed := false;
    g := till_gate(
        p_user_id, p_password_hash, p_store_id, p_window_start, p_max_failures);
    IF g.refusal_status IS NOT NULL THEN
        status := g.refusal_status; body := g.refusal_body; retry_after := g.retry_after;
        RETURN;
    END IF;
    -- p_code is normalised and card-shaped (NULL when it is not); the range is the
    -- account's.
    SELECT id, balance, currency, expires_at, cancelled_at INTO v
      FROM vouchers
     WHERE account_id = g.account_id AND code = p_code AND starts_with(p_code, g.card_range)
       FOR UPDATE;
    IF NOT FOUND THEN
        SELECT * INTO status, body, replayed, retry_after
          FROM till_voucher_not_found(p_user_id, p_now, p_window_start, p_max_failures);
        RETURN;
    END IF;
    r := till_replay(g.account_id, p_store_id, p_reference, p_fingerprint);
    IF r.status IS NOT NULL THEN
        status := r.status; body := r.body; replayed := r.replayed;
        RETURN;
    END IF;

    IF v.cancelled_at IS NOT NULL THEN
        v_refusal := till_problem('voucher_cancelled', 'This voucher has been cancelled.');
    ELSIF v.expires_at IS NOT NULL AND v.expires_at <= p_now THEN
        v_refusal := till_problem('voucher_expired', 'This voucher has expired.');
    ELSIF p_kind = 'redemption' AND v.balance < p_amount THEN
        IF NOT p_allow_partial OR v.balance = 0 THEN
            v_refusal := till_problem('insufficient_funds',
                format('The voucher holds %s; %s was asked for.', v.balance, p_amount), v.balance);
        ELSE
            v_taken := v.balance;
        END IF;
    ELSIF p_kind = 'load' AND g.balance_cap IS NOT NULL
          AND v.balance + p_amount > g.balance_cap THEN
        v_refusal := till_problem('balance_limit_exceeded',
            format('A voucher on this account may hold at most %s; it holds %s.',
                   g.balance_cap, v.balance));
    END IF;

    IF v_refusal IS NOT NULL THEN
        status := 409; body := v_refusal;
    ELSE
        v_delta := CASE WHEN p_kind = 'redemption' THEN -v_taken ELSE v_taken END;
        UPDATE vouchers SET balance = balance + v_delta WHERE id = v.id;
        INSERT INTO ledger_entries
            (transaction_id, voucher_id, account_id, site_id, store_id, kind, amount, reference,
             reverses_entry_id, created_at)
        VALUES (p_transaction_id, v.id, g.account_id, g.site_id, p_store_id, p_kind, v_delta,
                p_reference, NULL, p_now);
        status := 201;
        body := json_build_object('transaction_id', p_transaction_id, 'amount', v_taken,
                                  'balance', v.balance + v_delta, 'currency', v.currency)::text;
    END IF;
    PERFORM till_record(g.account_id, p_store_id, g.site_id, p_reference, p_fingerprint,
                        status, body, p_now);
END $$;

-- The digit that makes p_partial || digit pass the Luhn check (api/vouchers/cards.py).
CREATE FUNCTION till_luhn_digit(p_partial text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_total integer := 0;
    v_digit integer;
    v_length integer := length(p_partial);
BEGIN
    -- Walking from the right of the partial number, every first digit gets doubled.
    FOR v_position IN 0 .. v_length - 1 LOOP
        v_digit := substr(p_partial, v_length - v_position, 1)::integer;
        IF v_position % 2 = 0 THEN
            v_digit := v_digit * 2;
            IF v_digit > 9 THEN
                v_digit := v_digit - 9;
            END IF;
        END IF;
        v_total := v_total + v_digit;
    END LOOP;
    RETURN ((10 - v_total % 10) % 10)::text;
END $$;

-- Sell a voucher. Its code is the account's card range, p_digits (drawn by the caller
-- from a cryptographic source) and the Luhn check digit; a code already taken fails
-- the insert on the codes' unique index, and the caller draws again.
CREATE FUNCTION till_sell(
    p_user_id integer, p_password_hash text, p_store_id text, p_product_id integer,
    p_amount bigint,
    p_reference text, p_fingerprint text, p_transaction_id text, p_digits text,
    p_now timestamptz, p_window_start timestamptz, p_max_failures integer,
    OUT status integer, OUT body text, OUT replayed boolean, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    g record;
    p record;
    r record;
    v_voucher_id integer;
    v_code text;
    v_expires_at timestamptz;
BEGIN
    replayed := false;
    g := till_gate(
        p_user_id, p_password_hash, p_store_id, p_window_start, p_max_failures);
    IF g.refusal_status IS NOT NULL THEN
        status := g.refusal_status; body := g.refusal_body; retry_after := g.retry_after;
        RETURN;
    END IF;
    SELECT id, in_store, validity_days INTO p
      FROM products WHERE id = p_product_id AND account_id = g.account_id;
    IF NOT FOUND OR NOT p.in_store THEN
        IF till_is_voided(g.account_id, p_store_id, p_reference) THEN
            status := 409; body := till_voided_problem();
        ELSE
            status := 404;
            body := till_problem('product_not_found',
                'No in-store gift product with this ID on your account.');
        END IF;
        RETURN;
    END IF;
    r := till_replay(g.account_id, p_store_id, p_reference, p_fingerprint);
    IF r.status IS NOT NULL THEN
        status := r.status; body := r.body; replayed := r.replayed;
        RETURN;
    END IF;

    IF g.balance_cap IS NOT NULL AND p_amount > g.balance_cap THEN
        status := 409;
        body := till_problem('balance_limit_exceeded',
            format('A voucher on this account may hold at most %s.', g.balance_cap));
    ELSE
        v_code := g.card_range || p_digits;
        v_code := v_code || till_luhn_digit(v_code);
        IF p.validity_days IS NOT NULL THEN
            v_expires_at := date_trunc('second', p_now + make_interval(days => p.validity_days));
        END IF;
        INSERT INTO vouchers
            (account_id, product_id, code, currency, balance, expires_at, cancelled_at, created_at)
        VALUES (g.account_id, p.id, v_code, g.currency, p_amount, v_expires_at, NULL, p_now)
        RETURNING id INTO v_voucher_id;
        INSERT INTO ledger_entries
            (transaction_id, voucher_id, account_id, site_id, store_id, kind, amount, reference,
             reverses_entry_id, created_at)
        VALUES (p_transaction_id, v_voucher_id, g.account_id, g.site_id, p_store_id, 'sale',
                p_amount, p_reference, NULL, p_now);
        status := 201;
        body := json_build_object(
            'code', v_code, 'balance', p_amount, 'currency', g.currency,
            'status', CASE WHEN v_expires_at <= p_now THEN 'expired' ELSE 'active' END,
            'expires_at', till_rfc3339(v_expires_at), 'transaction_id', p_transaction_id)::text;
    END IF;
    PERFORM till_record(g.account_id, p_store_id, g.site_id, p_reference, p_fingerprint,
                        status, body, p_now);
END $$;

-- Undo an entry of a locked voucher, whole: the rules of a reversal, shared by reverse
-- and the void by reference. refusal is the problem body when it is refused; else the
-- reversal is written and new_balance is the voucher's balance after it.
CREATE FUNCTION till_reverse_entry(
    p_balance_cap bigint, p_voucher_id integer, p_balance bigint, p_target_id integer,
    p_target_kind text, p_target_amount bigint, p_account_id integer, p_site_id integer,
    p_store_id text, p_reference text, p_transaction_id text, p_now timestamptz,
    OUT refusal text, OUT new_balance bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_delta bigint;
    v_cancel boolean := false;
BEGIN
    IF p_target_kind = 'reversal' THEN
        refusal := till_problem('not_reversible', 'A reversal cannot itself be reversed.');
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_entries WHERE reverses_entry_id = p_target_id) THEN
        refusal := till_problem('already_reversed', 'This transaction has already been reversed.');
        RETURN;
    END IF;
    IF p_target_kind = 'load' AND p_balance < p_target_amount THEN
        refusal := till_problem('insufficient_funds',
            format('The top-up of %s has been spent; the voucher holds %s.',
                   p_target_amount, p_balance), p_balance);
        RETURN;
    END IF;
    IF p_target_kind = 'sale' THEN
        IF EXISTS (SELECT 1 FROM ledger_entries m
                    WHERE m.voucher_id = p_voucher_id AND m.kind IN ('load', 'redemption')
                      AND NOT EXISTS (SELECT 1 FROM ledger_entries r
                                       WHERE r.reverses_entry_id = m.id)) THEN
            refusal := till_problem('voucher_in_use',
                'Reverse the voucher''s other transactions before its sale.');
            RETURN;
        END IF;
        -- With every other movement undone the balance is the sale's amount: take it all.
        v_cancel := true;
        v_delta := -p_balance;
    ELSE
        v_delta := -p_target_amount;
    END IF;
    IF p_balance_cap IS NOT NULL AND v_delta > 0 AND p_balance + v_delta > p_balance_cap THEN
        -- The cap is a hard limit: undoing a redemption may not break it either.
        refusal := till_problem('balance_limit_exceeded',
            format('A voucher on this account may hold at most %s; it holds %s.',
                   p_balance_cap, p_balance));
        RETURN;
    END IF;
    UPDATE vouchers
       SET balance = balance + v_delta,
           cancelled_at = CASE WHEN v_cancel THEN p_now ELSE cancelled_at END
     WHERE id = p_voucher_id;
    INSERT INTO ledger_entries
        (transaction_id, voucher_id, account_id, site_id, store_id, kind, amount, reference,
         reverses_entry_id, created_at)
    VALUES (p_transaction_id, p_voucher_id, p_account_id, p_site_id, p_store_id, 'reversal',
            v_delta, p_reference, p_target_id, p_now);
    new_balance := p_balance + v_delta;
END $$;

-- Reverse one of a voucher's transactions by its transaction ID.
CREATE FUNCTION till_reverse(
    p_user_id integer, p_password_hash text, p_store_id text, p_code text, p_target text,
    p_reference text,
    p_fingerprint text, p_transaction_id text, p_now timestamptz, p_window_start timestamptz,
    p_max_failures integer,
    OUT status integer, OUT body text, OUT replayed boolean, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    g record;
    v record;
    t record;
    r record;
    e record;
BEGIN
    replayed := false;
    g := till_gate(
        p_user_id, p_password_hash, p_store_id, p_window_start, p_max_failures);
    IF g.refusal_status IS NOT NULL THEN
        status := g.refusal_status; body := g.refusal_body; retry_after := g.retry_after;
        RETURN;
    END IF;
    SELECT id, balance, currency INTO v
      FROM vouchers
     WHERE account_id = g.account_id AND code = p_code AND starts_with(p_code, g.card_range)
       FOR UPDATE;
    IF NOT FOUND THEN
        SELECT * INTO status, body, replayed, retry_after
          FROM till_voucher_not_found(p_user_id, p_now, p_window_start, p_max_failures);
        RETURN;
    END IF;
    SELECT id, transaction_id, kind, amount INTO t
      FROM ledger_entries WHERE voucher_id = v.id AND transaction_id = p_target;
    IF NOT FOUND THEN
        IF till_is_voided(g.account_id, p_store_id, p_reference) THEN
            status := 409; body := till_voided_problem();
        ELSE
            status := 404;
            body := till_problem('transaction_not_found',
                'This voucher has no transaction with that ID.');
        END IF;
        RETURN;
    END IF;
    r := till_replay(g.account_id, p_store_id, p_reference, p_fingerprint);
    IF r.status IS NOT NULL THEN
        status := r.status; body := r.body; replayed := r.replayed;
        RETURN;
    END IF;

    e := till_reverse_entry(
        g.balance_cap, v.id, v.balance, t.id, t.kind, t.amount, g.account_id, g.site_id,
        p_store_id, p_reference, p_transaction_id, p_now);
    IF e.refusal IS NOT NULL THEN
        status := 409; body := e.refusal;
    ELSE
        status := 201;
        body := json_build_object(
            'transaction_id', p_transaction_id, 'amount', abs(t.amount), 'balance', e.new_balance,
            'currency', v.currency, 'reversed_transaction_id', t.transaction_id)::text;
    END IF;
    PERFORM till_record(g.account_id, p_store_id, g.site_id, p_reference, p_fingerprint,
                        status, body, p_now);
END $$;

-- Void by the till's own reference (api/reversals/service.py says how a void and its
-- original, racing, end as if they had come in some order).
CREATE FUNCTION till_void(
    p_user_id integer, p_password_hash text, p_store_id text, p_original text,
    p_reference text,
    p_fingerprint text, p_transaction_id text, p_now timestamptz, p_window_start timestamptz,
    p_max_failures integer,
    OUT status integer, OUT body text, OUT replayed boolean, OUT retry_after integer)
LANGUAGE plpgsql AS $$
DECLARE
    g record;
    r record;
    f record;
    t record;
    v record;
    e record;
BEGIN
    replayed := false;
    g := till_gate(
        p_user_id, p_password_hash, p_store_id, p_window_start, p_max_failures);
    IF g.refusal_status IS NOT NULL THEN
        status := g.refusal_status; body := g.refusal_body; retry_after := g.retry_after;
        RETURN;
    END IF;
    r := till_replay(g.account_id, p_store_id, p_reference, p_fingerprint);
    IF r.status IS NOT NULL THEN
        status := r.status; body := r.body; replayed := r.replayed;
        RETURN;
    END IF;

    -- The tombstone: inserted when the original was never received (this waits for an
    -- original still in flight under the same key, and then finds its record).
    INSERT INTO idempotency_records
        (account_id, store_id, site_id, reference, request_hash, status_code, response_body,
         created_at)
    VALUES (g.account_id, p_store_id, g.site_id, p_original, 'voided', 409,
            till_voided_problem(), p_now)
    ON CONFLICT (account_id, store_id, reference) DO NOTHING;
    IF FOUND THEN
        status := 201;
    ELSE
        SELECT request_hash, status_code, response_body INTO f
          FROM idempotency_records
         WHERE account_id = g.account_id AND store_id = p_store_id AND reference = p_original;
        IF f.request_hash = 'voided' THEN
            status := 409;
            body := till_problem('already_reversed', 'This reference has already been voided.');
        ELSIF f.status_code <> 201 THEN
            status := 201;  -- it was refused: it moved nothing
        ELSE
            SELECT id, transaction_id, kind, amount, voucher_id INTO t
              FROM ledger_entries
             WHERE account_id = g.account_id
               AND transaction_id = (f.response_body::json ->> 'transaction_id');
            IF NOT FOUND THEN
                -- Only a void of a reference never received answers 201 without an entry.
                status := 409;
                body := till_problem('not_reversible', 'A void cannot itself be voided.');
            ELSE
                SELECT id, code, balance, currency INTO v
                  FROM vouchers WHERE id = t.voucher_id FOR UPDATE;
                e := till_reverse_entry(
                    g.balance_cap, v.id, v.balance, t.id, t.kind, t.amount, g.account_id,
                    g.site_id, p_store_id, p_reference, p_transaction_id, p_now);
                IF e.refusal IS NOT NULL THEN
                    status := 409; body := e.refusal;
                ELSE
                    status := 201;
                    body := json_build_object(
                        'transaction_id', p_transaction_id,
                        'reversed_transaction_id', t.transaction_id, 'code', v.code,
                        'amount', abs(t.amount), 'balance', e.new_balance,
                        'currency', v.currency)::text;
                END IF;
            END IF;
        END IF;
    END IF;
    IF status = 201 AND body IS NULL THEN  -- nothing undone
        body := json_build_object(
            'transaction_id', p_transaction_id, 'reversed_transaction_id', NULL, 'code', NULL,
            'amount', 0, 'balance', NULL, 'currency', g.currency)::text;
    END IF;
    PERFORM till_record(g.account_id, p_store_id, g.site_id, p_reference, p_fingerprint,
                        status, body, p_now);
END $$;

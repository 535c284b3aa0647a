"""The token in a store-ID link: 128 random bits, signed; any other spelling of it,
any change to it, and any token signed with another key or for another purpose is no
link."""

from __future__ import annotations

import string

from itsdangerous import URLSafeSerializer

from api.store_id_links.tokens import LINK_ID_BYTES, LinkSigner, new_link_id

KEY = "store-id-link-test-key-" + "k" * 32
ALPHABET = string.ascii_letters + string.digits + "-_."


def test_a_token_carries_its_link_id_and_is_made_the_same_again() -> None:
    signer = LinkSigner(KEY)
    link_id = new_link_id()
    assert len(link_id) * 6 >= LINK_ID_BYTES * 8 >= 128
    assert link_id != new_link_id()
    token = signer.token(link_id)
    assert signer.link_id(token) == link_id
    assert signer.token(link_id) == token  # a reminder gets the very same link
    assert link_id not in token  # it names nothing by itself


def test_every_one_character_change_is_refused() -> None:
    signer = LinkSigner(KEY)
    token = signer.token(new_link_id())
    changed = 0
    for position, original in enumerate(token):
        for replacement in ALPHABET:
            if replacement == original:
                continue
            spoiled = token[:position] + replacement + token[position + 1 :]
            assert signer.link_id(spoiled) is None, (position, replacement)
            changed += 1
    assert changed == len(token) * (len(ALPHABET) - 1)
    assert signer.link_id(token + "A") is None and signer.link_id(token[:-1]) is None


def test_other_keys_and_purposes_make_no_link() -> None:
    link_id = new_link_id()
    assert LinkSigner(KEY).link_id(LinkSigner(KEY + "x").token(link_id)) is None
    # The same key signing something else (another salt): not a link either.
    other = URLSafeSerializer(KEY, salt="something-else").dumps(link_id)
    assert LinkSigner(KEY).link_id(str(other)) is None
    for junk in ("", ".", "..", "a.b", "%00", "x" * 201, "Ii4i.abc", "✓"):
        assert LinkSigner(KEY).link_id(junk) is None

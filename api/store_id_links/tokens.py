"""The token in a store-ID link: a random link ID (128 bits) signed with the ledger's
key (HMAC-SHA256, by itsdangerous).

The token names nothing by itself: which onboarding and which flow run it opens is
in the link's row, found by its ID. Without the key no one can make a token, so a
forged or altered one is refused before the database is asked anything, and a copy of
the database alone opens no page. Signing is deterministic, so the ledger can hand out
the same link again (for a reminder) without keeping the link itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from itsdangerous import BadData, URLSafeSerializer

LINK_ID_BYTES = 16  # 128 random bits
# Purpose-bound: a signature made for anything else with the same key is no link.
_SALT = "polaris-store-id-link/v1"
# A token is some 70 characters of URL-safe base64 and dots; anything longer, or of
# other characters, is refused without looking further.
MAX_TOKEN_LENGTH = 200
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-.]+$")


def new_link_id() -> str:
    return secrets.token_urlsafe(LINK_ID_BYTES)


class LinkSigner:
    def __init__(self, key: str) -> None:
        self._serializer = URLSafeSerializer(
            key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def token(self, link_id: str) -> str:
        return str(self._serializer.dumps(link_id))

    def link_id(self, token: str) -> str | None:
        """The link ID the token carries, or None if the token is not one of ours."""
        if len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.match(token):
            return None
        try:
            link_id = self._serializer.loads(token)
        except BadData:
            return None
        if not isinstance(link_id, str) or not 0 < len(link_id) <= 43:
            return None
        # Base64 lets the last character of each part carry bits that decoding drops:
        # only the one spelling the ledger made is a link.
        return link_id if hmac.compare_digest(self.token(link_id), token) else None

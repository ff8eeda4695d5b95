"""Who is asking: client keys and server-issued conversation tokens.

A ``session_id`` is a string the client picks, so it is a claim, not evidence of a distinct
person. Two things the client cannot mint for free stand in for identity here:

* **The client's network.** Behind the reverse proxies named in ``FORWARDED_ALLOW_IPS``
  (and only those) the forwarded address is the client's; otherwise the peer address is.
  An IPv4 address counts as one client; an IPv6 client counts by its /64, since one
  household is handed a whole /64 and could rotate within it forever. The key stored is a
  keyed hash (personal data stays out of the table), the same in every replica.
* **The conversation token.** ``process`` hands ``conversation_token`` = HMAC(secret,
  session id) to whoever *opens* a conversation (or already holds its token). Only turns
  asked with it, and the asking client's own turns, are the conversation's history, so
  knowing someone's session id neither reads their conversation through the model nor
  writes into it. Clients that ignore the token (the seed's) keep their history by address.
"""

import base64
import hashlib
import hmac
import ipaddress

#: 128 bits: far beyond guessing, short enough for a header.
TOKEN_BYTES = 16
#: Hex characters of a stored client key (the column is 32 wide).
CLIENT_KEY_CHARS = 32
IPV6_CLIENT_PREFIX = 64


def client_network(address: str) -> str:
    """The unit one client is counted by: the IPv4 address, the IPv6 /64, or the text of
    anything that is not an IP address (a Unix socket path, a test client's name)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


class ClientIdentity:
    """Client keys and conversation tokens, from secrets shared by every replica on the
    database (``app/access/tokens.py``: the token secret is never in a backup)."""

    def __init__(self, client_secret: bytes, token_secret: bytes) -> None:
        self._secret = client_secret
        self._token_secret = token_secret

    def client_key(self, address: str | None) -> str | None:
        if not address:
            return None
        digest = hmac.new(
            self._secret, f"client\n{client_network(address)}".encode(), hashlib.sha256
        )
        return digest.hexdigest()[:CLIENT_KEY_CHARS]

    def conversation_token(self, session_id: str) -> str:
        digest = hmac.new(
            self._token_secret, f"conversation\n{session_id}".encode(), hashlib.sha256
        )
        return base64.urlsafe_b64encode(digest.digest()[:TOKEN_BYTES]).rstrip(b"=").decode()

    def holds_conversation(self, token: str | None, session_id: str) -> bool:
        if not token:
            return False
        expected = self.conversation_token(session_id)
        return hmac.compare_digest(token.encode(), expected.encode())

"""Client addresses behind trusted reverse proxies, resolved by the app itself.

Only the proxies named in ``FORWARDED_ALLOW_IPS`` may say who the client is through
``X-Forwarded-For``; from anyone else the header is ignored and the peer address is the
client. Doing this in the app rather than in the server's options means the same rule holds
under uvicorn, gunicorn or a test client, and nothing trusts 127.0.0.1 by default.
"""

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.core.config import Settings


def install_trusted_proxies(app: FastAPI, settings: Settings) -> None:
    trusted = settings.forwarded_allow_ips.strip()
    if trusted:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)

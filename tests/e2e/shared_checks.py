#!/usr/bin/env python3
"""Multi-instance checks beside the SDK run (see two_instances.sh):

1. 50 concurrent redemptions of one authorization code, through the
   round-robin proxy (so across both instances), yield exactly one token.
2. A handshake-era MCP session opened on one instance is known on the
   other: used there, ended there (DELETE), and then gone on the first.

Env: PROXY_URL, INSTANCE_A, INSTANCE_B (base URLs), USERNAME, PASSWORD.
"""
import asyncio
import base64
import hashlib
import os
import re
import secrets
from urllib.parse import parse_qs, urlparse

import httpx2

PROXY, A, B = os.environ["PROXY_URL"], os.environ["INSTANCE_A"], os.environ["INSTANCE_B"]
REDIRECT = "http://127.0.0.1:3999/callback"
ACCEPT = "application/json, text/event-stream"


def field(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


async def code_for(http: httpx2.AsyncClient, client_id: str, challenge: str) -> str:
    r = await http.get(
        f"{PROXY}/authorize",
        params={
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
            "code_challenge": challenge, "code_challenge_method": "S256",
            "resource": f"{PROXY}/mcp",
        },
    )
    assert r.status_code == 200, r.text
    form = {
        "request_id": field(r.text, "request_id"), "csrf_token": field(r.text, "csrf_token"),
        "username": os.environ["USERNAME"], "password": os.environ["PASSWORD"], "decision": "approve",
    }
    r = await http.post(f"{PROXY}/authorize", data=form)
    assert r.status_code == 303, r.text
    return parse_qs(urlparse(r.headers["location"]).query)["code"][0]


async def one_code_one_token() -> None:
    async with httpx2.AsyncClient(timeout=30, follow_redirects=False) as http:
        r = await http.post(f"{PROXY}/register", json={"redirect_uris": [REDIRECT]})
        assert r.status_code == 201, r.text
        client_id = r.json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        code = await code_for(http, client_id, challenge)
        form = {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": client_id,
        }
        replies = await asyncio.gather(*(http.post(f"{PROXY}/token", data=form) for _ in range(50)))
        codes = sorted(r.status_code for r in replies)
        assert codes.count(200) == 1 and codes.count(400) == 49, (codes, {r.text for r in replies})
        print("50 concurrent redemptions: 1 token, 49 invalid_grant")


async def session_moves_between_instances() -> None:
    async with httpx2.AsyncClient(timeout=30) as http:
        # A token for both instances: they share the store and the public URL.
        client_id = (await http.post(f"{PROXY}/register", json={"redirect_uris": [REDIRECT]})).json()["client_id"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        code = await code_for(http, client_id, challenge)
        r = await http.post(f"{PROXY}/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": client_id,
        })
        token = r.json()["access_token"]
        auth = {"authorization": f"Bearer {token}", "accept": ACCEPT}
        init = {
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}},
        }
        r = await http.post(f"{A}/mcp", json=init, headers=auth)
        assert r.status_code == 200, r.text
        session = r.headers["mcp-session-id"]
        on = {**auth, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
        r = await http.post(f"{B}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=on)
        assert r.status_code == 202, r.text
        r = await http.post(f"{B}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=on)
        assert r.status_code == 200, r.text
        r = await http.delete(f"{B}/mcp", headers=on)
        assert r.status_code in (200, 204), f"B does not know A's session: {r.status_code} {r.text}"
        r = await http.post(f"{A}/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=on)
        assert r.status_code == 404, f"A still serves a session B ended: {r.status_code}"
        print("session opened on A, used and ended on B, gone on A")


async def main() -> None:
    await one_code_one_token()
    await session_moves_between_instances()


asyncio.run(main())

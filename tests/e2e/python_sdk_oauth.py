#!/usr/bin/env python3
"""Real-client test: the official MCP Python SDK (`pip install mcp`, 2.x)
completes discovery + DCR + PKCE + login headlessly against crypto-mcp, then
lists tools and calls `calculate`.

Env: MCP_URL (e.g. http://127.0.0.1:8080/mcp), USERNAME, PASSWORD;
optional REFRESH_AFTER_SECONDS (with a server whose access tokens live
shorter than that: checks the SDK refreshes and keeps working) and REVOKE=1
(revokes the refresh token at the end and checks the access token then
stops working within a second, on every instance behind the URL).
The redirect handler plays the browser: it GETs the authorize URL, submits
the login form (username, password, decision=approve) with the page's
hidden fields and cookie, and captures the 303 to the redirect URI.
Exit code 0 on success.
"""
import asyncio
import os
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from pydantic import AnyUrl

from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from signin_form import FormParser

MCP_URL = os.environ.get("MCP_URL", "http://127.0.0.1:8080/mcp")
REDIRECT_URI = "http://127.0.0.1:3030/callback"  # nothing listens; the 303 is captured
CREDS = {
    "username": os.environ.get("USERNAME", "admin"),
    "password": os.environ["PASSWORD"],
    "decision": "approve",
}


class MemStorage:
    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, t: OAuthToken) -> None:
        self.tokens = t

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, c: OAuthClientInformationFull) -> None:
        self.client_info = c


_captured: asyncio.Future | None = None


async def redirect_handler(authorization_url: str) -> None:
    global _captured
    _captured = asyncio.get_running_loop().create_future()
    print("authorize URL:", authorization_url.split("?")[0], file=sys.stderr)
    # One client = one "browser": it keeps the page's binding cookie.
    async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as ua:
        url, method, data = authorization_url, "GET", None
        for _ in range(10):
            r = await ua.request(method, url, data=data)
            if r.status_code in (301, 302, 303, 307, 308):
                loc = urljoin(url, r.headers["location"])
                if loc.startswith(REDIRECT_URI):
                    _captured.set_result(loc)
                    return
                url, method, data = loc, "GET", None
                continue
            if r.status_code == 200 and "<form" in r.text:
                p = FormParser()
                p.feed(r.text)
                url, method, data = urljoin(url, p.action or url), "POST", {**p.fields, **CREDS}
                continue
            raise RuntimeError(f"unexpected {r.status_code} at {url}: {r.text[:300]}")
    raise RuntimeError("never redirected to redirect_uri")


async def callback_handler() -> AuthorizationCodeResult:
    q = parse_qs(urlparse(await _captured).query)
    if "error" in q:
        raise RuntimeError(q)
    return AuthorizationCodeResult(
        code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0]
    )


async def revoke_and_check(storage: MemStorage) -> None:
    base = MCP_URL.rsplit("/mcp", 1)[0]
    async with httpx2.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{base}/revoke",
            data={"token": storage.tokens.refresh_token, "client_id": storage.client_info.client_id},
        )
        assert r.status_code == 200, r.text
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {
            "authorization": f"Bearer {storage.tokens.access_token}",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
        }
        deadline = asyncio.get_running_loop().time() + 1.0
        # Behind a round-robin proxy, consecutive requests reach different
        # instances: two 401s in a row means every instance refuses it.
        refused = 0
        while refused < 2:
            r = await http.post(MCP_URL, json=body, headers=headers)
            refused = refused + 1 if r.status_code == 401 else 0
            if refused < 2:
                assert asyncio.get_running_loop().time() < deadline, "revoked token still accepted"
                await asyncio.sleep(0.05)
        print("revoked: the access token is refused")


async def main() -> int:
    storage = MemStorage()
    oauth = OAuthClientProvider(
        server_url=MCP_URL,
        client_metadata=OAuthClientMetadata(
            client_name="python-sdk-e2e",
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with httpx2.AsyncClient(auth=oauth, timeout=httpx2.Timeout(30.0, read=300.0)) as http:
        async with Client(streamable_http_client(MCP_URL, http_client=http), mode="legacy") as c:
            tools = await c.list_tools()
            names = [t.name for t in tools.tools]
            print("tools:", names)
            assert "calculate" in names, names
            res = await c.call_tool("calculate", {"expression": "1+2"})
            dumped = res.model_dump(exclude_none=True)
            print("calculate:", dumped)
            text = "".join(getattr(b, "text", "") for b in res.content)
            assert "3" in text, dumped
            wait = float(os.environ.get("REFRESH_AFTER_SECONDS", "0"))
            if wait:
                # Start the server with a short access-token TTL: the SDK must
                # refresh (rotation) and carry on without a new login.
                first = storage.tokens.access_token
                await asyncio.sleep(wait)
                await c.list_tools()
                assert storage.tokens.access_token != first, "token was not refreshed"
                print("refreshed: new access token after", wait, "s")
    if os.environ.get("REVOKE"):
        await revoke_and_check(storage)
    print(
        "OK client_id=%s token=%s… scope=%s"
        % (storage.client_info.client_id, storage.tokens.access_token[:8], storage.tokens.scope)
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

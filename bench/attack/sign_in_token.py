"""Prints an access token for a running server in OAuth mode, obtained the
way a client does: dynamic registration, the sign-in page, the code, then
/token with PKCE.

    python3 bench/attack/sign_in_token.py --url http://127.0.0.1:PORT --user NAME --password PASSWORD

Loopback only; no redirect is followed (the callback never listens).
"""

import argparse
import base64
import hashlib
import http.client
import json
import re
import secrets
import sys
import urllib.parse

REDIRECT = "http://127.0.0.1:3999/callback"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def send(method, path, body=None, headers=None):
        conn.request(method, path, body, headers or {})
        reply = conn.getresponse()
        return reply, reply.read()

    reply, body = send("POST", "/register", json.dumps({"client_name": "attack bench", "redirect_uris": [REDIRECT]}),
                       {"content-type": "application/json"})
    client_id = json.loads(body)["client_id"]
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "code_challenge": challenge, "code_challenge_method": "S256", "resource": f"{args.url}/mcp",
    })
    reply, page = send("GET", f"/authorize?{query}")
    cookies = "; ".join(c.split(";", 1)[0] for c in reply.headers.get_all("set-cookie") or [])
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', page.decode()))
    form = urllib.parse.urlencode({
        "request_id": fields["request_id"], "csrf_token": fields["csrf_token"],
        "username": args.user, "password": args.password, "decision": "approve",
    })
    reply, _ = send("POST", "/authorize", form,
                    {"content-type": "application/x-www-form-urlencoded", "cookie": cookies})
    location = reply.headers.get("location") or sys.exit(f"sign-in failed: HTTP {reply.status}")
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
    form = urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": client_id,
    })
    reply, body = send("POST", "/token", form, {"content-type": "application/x-www-form-urlencoded"})
    print(json.loads(body)["access_token"])


if __name__ == "__main__":
    main()

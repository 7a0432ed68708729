#!/usr/bin/env python3
"""Real-client test: the MCP Inspector CLI (`@modelcontextprotocol/inspector`
2.x) signs in to crypto-mcp with OAuth (DCR, PKCE, its own loopback
callback) and runs one method. The Inspector prints the authorize URL; this
script plays the user: it opens the page, submits the login form with the
page's hidden fields, and follows the redirect to the Inspector's callback.

Usage: inspector_oauth.py INSPECTOR-COMMAND...   (the whole command line)
Env: USERNAME, PASSWORD. Prints the Inspector's output; exits with its code.
"""
import os
import re
import subprocess
import sys
from urllib.parse import urljoin

import httpx2
from signin_form import FormParser


def main() -> int:
    # No TTY here: let the Inspector "open a browser" (a no-op) and print
    # the URL; keep its secrets in memory.
    env = dict(os.environ, MCP_AUTO_OPEN_ENABLED="true", BROWSER="true",
               MCP_INSPECTOR_SECRET_STORE="memory")
    inspector = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, text=True, env=env)
    seen = []
    url = None
    for line in inspector.stdout:
        seen.append(line)
        found = re.search(r"Please navigate to: (\S+)", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        inspector.wait(timeout=30)
        print("".join(seen))
        print("the Inspector printed no authorize URL", file=sys.stderr)
        return 1
    print("authorize URL:", url.split("?")[0], file=sys.stderr)
    with httpx2.Client(follow_redirects=False, timeout=30) as browser:
        page = browser.get(url)
        form = FormParser()
        form.feed(page.text)
        answer = browser.post(urljoin(url, form.action or url), data={
            **form.fields, "username": os.environ["USERNAME"],
            "password": os.environ["PASSWORD"], "decision": "approve"})
        if answer.status_code != 303:
            print(f"login answered {answer.status_code}: {answer.text[:300]}", file=sys.stderr)
            inspector.kill()
            return 1
        callback = answer.headers["location"]
        print("callback:", callback.split("?")[0], file=sys.stderr)
        browser.get(callback)
    seen.append(inspector.stdout.read())
    inspector.wait(timeout=60)
    print("".join(seen))
    return inspector.returncode


if __name__ == "__main__":
    sys.exit(main())

// Real-browser test: headless Debian Chromium opens the MCP URL (the
// server's page for people, sign-in on), then signs in through the
// authorize page and lands on the client's redirect with code/state/iss.
// Env: BASE_URL (= PUBLIC_URL), USERNAME, PASSWORD, SCREENSHOT (png path of
//      the sign-in page), PAGE_SCREENSHOT (png path of the server's page),
//      CALLBACK_PORT (default 3999), CHROMIUM (default /usr/bin/chromium).
// Needs `npm install playwright-core` (no browser download: Debian chromium).
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";

const BASE = process.env.BASE_URL ?? "http://127.0.0.1:8080";
const USER = process.env.USERNAME ?? "admin";
const PASS = process.env.PASSWORD;
const SHOT = process.env.SCREENSHOT ?? "authorize-page.png";
const PAGE_SHOT = process.env.PAGE_SCREENSHOT ?? "mcp-page.png";
const PORT = Number(process.env.CALLBACK_PORT ?? 3999);
const REDIRECT = `http://127.0.0.1:${PORT}/callback`;
if (!PASS) throw new Error("PASSWORD is required");

const b64url = (b) => b.toString("base64url");
const fail = (m) => { console.error("FAIL:", m); process.exit(1); };

// The client's redirect target: a tiny local page.
const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><title>callback</title><p>signed in</p>");
});
await new Promise((r) => server.listen(PORT, "127.0.0.1", r));

const reg = await fetch(`${BASE}/register`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ client_name: "Browser E2E", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" }),
});
if (reg.status !== 201) fail(`register: ${reg.status} ${await reg.text()}`);
const { client_id } = await reg.json();

const verifier = b64url(randomBytes(32));
const challenge = b64url(createHash("sha256").update(verifier).digest());
const state = b64url(randomBytes(16));
const q = new URLSearchParams({
  response_type: "code", client_id, redirect_uri: REDIRECT, code_challenge: challenge,
  code_challenge_method: "S256", state, scope: "mcp:tools", resource: `${BASE}/mcp`,
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  // Playwright always starts Chromium with a new, empty profile directory.
});
try {
  // The MCP URL in a browser, sign-in on: a page for people, not a 401.
  {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    const problems = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(m.text()); });
    page.on("request", (r) => { if (!r.url().startsWith(`${BASE}/mcp`)) problems.push(`request to ${r.url()}`); });
    const resp = await page.goto(`${BASE}/mcp`);
    if (resp.status() !== 200) fail(`GET /mcp in a browser: ${resp.status()}`);
    const csp = resp.headers()["content-security-policy"] ?? "";
    if (!csp.startsWith("default-src 'none'") || !csp.includes("frame-ancestors 'none'")) fail(`page CSP: ${csp}`);
    const text = await page.textContent("body");
    for (const want of ["crypto-mcp", `${BASE}/mcp`, "Sign-in is on.", "Claude Code", "MCP Inspector", "Technical analysis"]) {
      if (!text.includes(want)) fail(`the page lacks ${want}`);
    }
    // The style applies (the CSP allows it by hash): the URL box is shaded.
    const shaded = await page.$eval(".url code", (e) => getComputedStyle(e).display);
    if (shaded !== "block") fail(`the page's style did not apply (${shaded})`);
    if (problems.length) fail(`page problems: ${problems.join("; ")}`);
    await page.screenshot({ path: PAGE_SHOT, fullPage: true });
    console.log("OK the MCP URL shows the page; screenshot:", PAGE_SHOT);
    await ctx.close();
  }
  // A phone-sized viewport: the page must look right on a phone.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  const resp = await page.goto(`${BASE}/authorize?${q}`);
  if (resp.status() !== 200) fail(`authorize page: ${resp.status()}`);
  const csp = resp.headers()["content-security-policy"] ?? "";
  if (!csp.includes("frame-ancestors 'none'")) fail(`CSP: ${csp}`);
  if (!(await page.textContent("body")).includes("Browser E2E")) fail("client name not shown");
  await page.fill('input[name="username"]', USER);
  await page.fill('input[name="password"]', PASS);
  await page.screenshot({ path: SHOT, fullPage: true });
  console.log("screenshot:", SHOT);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 15000 }),
    page.click('button[name="decision"][value="approve"]'),
  ]);
  const landed = new URL(page.url());
  const p = landed.searchParams;
  if (!p.get("code")) fail(`no code in ${landed}`);
  if (p.get("state") !== state) fail("state mismatch");
  if (p.get("iss") !== BASE) fail(`iss ${p.get("iss")} != ${BASE}`);
  // Finish like a client would.
  const tok = await fetch(`${BASE}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: p.get("code"), redirect_uri: REDIRECT,
                                code_verifier: verifier, client_id, resource: `${BASE}/mcp` }),
  });
  if (tok.status !== 200) fail(`token: ${tok.status} ${await tok.text()}`);
  const t = await tok.json();
  const mcp = await fetch(`${BASE}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${t.access_token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  if (mcp.status !== 200) fail(`mcp with token: ${mcp.status}`);
  console.log(`OK landed on ${landed.origin}${landed.pathname} with code, state and iss; token works`);

  // Same browser, same app again (a reconnect): the sign-in session and the
  // remembered consent send it straight back, without a page.
  const state2 = b64url(randomBytes(16));
  q.set("state", state2);
  await page.goto(`${BASE}/authorize?${q}`);
  const again = new URL(page.url());
  if (!again.href.startsWith(REDIRECT) || again.searchParams.get("state") !== state2 || !again.searchParams.get("code"))
    fail(`reconnect did not go straight back: ${again.href.slice(0, 80)}`);
  console.log("OK reconnect in the same browser skipped the page (remembered consent)");
} finally {
  await browser.close();
  server.close();
}

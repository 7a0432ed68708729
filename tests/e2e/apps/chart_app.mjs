// Browser test of the chart app (MCP Apps view) against the real server:
// Node speaks MCP to the server (built from this tree, on the fake Binance),
// a fake host page (host.html) runs the view in a sandboxed iframe under the
// spec's default CSP in headless Debian Chromium, and the view's tools/call
// go back to the server through the page. Asserts the wire shapes, that the
// chart drew, that an interval switch, an indicator toggle and "load older"
// each produced a new chart, that errors and too few candles are shown, that
// nothing logged an error or hit the network, and saves screenshots.
//
// Env: MCP_URL (the server's /mcp), HOST_HTML (path of host.html),
//      ARTIFACT_DIR (screenshots), HOST_PORT (fake host page, default 28911),
//      CHROMIUM (default /usr/bin/chromium).
// Needs playwright-core resolvable from this file's folder.
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const MCP_URL = process.env.MCP_URL ?? "http://127.0.0.1:28831/mcp";
const HOST_HTML = readFileSync(process.env.HOST_HTML ?? new URL("./host.html", import.meta.url), "utf8");
const ARTIFACTS = process.env.ARTIFACT_DIR ?? "apps-artifacts";
const HOST_PORT = Number(process.env.HOST_PORT ?? 28911);
const HOST_ORIGIN = `http://127.0.0.1:${HOST_PORT}`;
const URI = "ui://crypto-mcp/chart-v1.html";
const MIME = "text/html;profile=mcp-app";
const EXTENSION = "io.modelcontextprotocol/ui";
const WAIT_MS = 20000;
mkdirSync(ARTIFACTS, { recursive: true });

let failures = 0;
let passes = 0;
function check(ok, what, detail = "") {
  if (ok) {
    passes += 1;
    console.log(`ok   ${what}`);
  } else {
    failures += 1;
    console.log(`FAIL ${what}${detail ? `: ${detail}` : ""}`);
  }
}

// ---- MCP client (handshake era) -------------------------------------------
let session = null;
let nextId = 1;
async function mcp(method, params) {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  if (session) Object.assign(headers, { "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" });
  const id = nextId++;
  const response = await fetch(MCP_URL, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id, method, params }) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${method}: HTTP ${response.status} ${text.slice(0, 200)}`);
  if (method === "initialize") session = response.headers.get("mcp-session-id");
  const body = response.headers.get("content-type")?.includes("text/event-stream")
    ? text.split("\n").filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5))).find((m) => m.id === id)
    : JSON.parse(text);
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

const init = await mcp("initialize", {
  protocolVersion: "2025-11-25",
  capabilities: { extensions: { [EXTENSION]: { mimeTypes: [MIME] } } },
  clientInfo: { name: "apps-e2e", version: "1" },
});
await fetch(MCP_URL, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": session, "mcp-protocol-version": "2025-11-25" },
  body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
});
check(init.capabilities?.extensions?.[EXTENSION]?.mimeTypes?.includes(MIME), "initialize advertises the MCP Apps extension");

const { tools } = await mcp("tools/list", {});
for (const name of ["binance_klines", "technical_analysis"]) {
  const tool = tools.find((t) => t.name === name);
  check(tool?._meta?.ui?.resourceUri === URI && tool?._meta?.["openai/outputTemplate"] === URI, `${name} links the chart app`);
}
const { resources } = await mcp("resources/list", {});
check(resources.some((r) => r.uri === URI && r.mimeType === MIME), "resources/list lists the chart app");
const read = await mcp("resources/read", { uri: URI });
const content = read.contents?.[0];
check(read.contents?.length === 1 && content.mimeType === MIME && content.text.startsWith("<!doctype html>"), "resources/read returns one HTML document");
check(content._meta?.ui?.prefersBorder === true, "the resource content carries _meta.ui");
const html = content.text;
console.log(`     chart app HTML: ${Buffer.byteLength(html)} bytes`);

const call = (name, args) => mcp("tools/call", { name, arguments: args });
const klinesArgs = { symbol: "BTCUSDT", interval: "1h", limit: 200 };
const klines = await call("binance_klines", klinesArgs);
const taArgs = { symbol: "BTCUSDT", interval: "1h", limit: 300, indicators: ["ema:20", "ema:50", "bbands:20,2", "rsi:14", "macd:12,26,9"] };
const analysis = await call("technical_analysis", taArgs);
check(!klines.isError && !analysis.isError, "the tools answered", JSON.stringify([klines.content?.[0], analysis.content?.[0]]).slice(0, 300));
check(analysis._meta?.["crypto-mcp/chart"]?.candles?.length === 300, "technical_analysis hands the view every candle in _meta");

// ---- The fake host and the browser ----------------------------------------
const hostServer = createServer((req, res) => {
  if (req.url === "/" || req.url === "/index.html") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(HOST_HTML);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => hostServer.listen(HOST_PORT, "127.0.0.1", resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
const requests = [];
const toolCalls = [];
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 900 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => requests.push(r.url()));
  await page.exposeFunction("mcpCall", async (method, params) => {
    toolCalls.push(params);
    return mcp(method, params);
  });
  await page.goto(`${HOST_ORIGIN}/`);
  const app = page.frameLocator("#app");
  const frame = () => page.frame({ url: /^about:srcdoc/ }) ?? page.frames().find((f) => f !== page.mainFrame());
  const data = async () => frame().evaluate(() => ({ ...document.getElementById("app").dataset }));
  const waitFor = async (what, predicate) => {
    const deadline = Date.now() + WAIT_MS;
    let last = null;
    while (Date.now() < deadline) {
      last = await data().catch(() => null);
      if (last && predicate(last)) return last;
      await page.waitForTimeout(50);
    }
    throw new Error(`timed out waiting for ${what}; last view state ${JSON.stringify(last)}`);
  };
  const start = async (toolName, toolInput, toolResult, theme = "light") => {
    await page.evaluate((o) => window.startApp(o), { html, theme, toolName, toolInput, toolResult });
    await page.waitForFunction(() => document.querySelector("#app")?.contentWindow, null, { timeout: WAIT_MS });
  };
  // Distinct colours and non-background share over every canvas: a blank or
  // single-colour chart fails.
  const canvasStats = () => frame().evaluate(() => {
    const colours = new Set();
    let inked = 0;
    let total = 0;
    let hash = 0;
    for (const canvas of document.querySelectorAll("canvas")) {
      if (!canvas.width || !canvas.height) continue;
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      const background = pixels.slice(0, 4).join();
      for (let i = 0; i < pixels.length; i += 16) {
        const key = `${pixels[i]},${pixels[i + 1]},${pixels[i + 2]},${pixels[i + 3]}`;
        total += 1;
        if (pixels[i + 3] === 0) continue;
        colours.add(key);
        if (key !== background) inked += 1;
        hash = (hash * 31 + pixels[i] + pixels[i + 1] * 7 + pixels[i + 2] * 13) >>> 0;
      }
    }
    return { colours: colours.size, inked: total ? inked / total : 0, hash };
  });
  const hostLog = () => page.evaluate(() => window.hostLog.map((m) => m.method));

  // 1. A technical_analysis result: candles, overlays and two panes.
  await start("technical_analysis", taArgs, analysis);
  let state = await waitFor("the first chart", (d) => d.state === "ready" && Number(d.draws) >= 1);
  check(state.tool === "technical_analysis" && state.candles === "300" && state.interval === "1h", "the analysis chart drew 300 1h candles", JSON.stringify(state));
  let stats = await canvasStats();
  check(stats.colours > 20 && stats.inked > 0.02, "the canvas is not blank", JSON.stringify(stats));
  const log = await hostLog();
  check(log[0] === "ui/initialize" && log.includes("ui/notifications/initialized"), "the view completed ui/initialize", log.join(","));
  const pressed = await app.locator("#indicators button[aria-pressed=true]").allTextContents();
  check(["EMA 20", "EMA 50", "BB 20,2", "RSI 14", "MACD 12,26,9"].every((l) => pressed.includes(l)), "overlays and both panes are on", pressed.join(","));
  await page.waitForTimeout(300);
  const reported = await page.evaluate(() => window.hostLog.filter((m) => m.method === "ui/notifications/size-changed").map((m) => m.params));
  const frameHeight = await page.evaluate(() => document.querySelector("#app").getBoundingClientRect().height);
  check(reported.length >= 1 && Math.abs(frameHeight - 2 - reported.at(-1).height) <= 1, "the view reports its size and the host applied it", JSON.stringify({ reported, frameHeight }));
  await page.locator("#app").screenshot({ path: join(ARTIFACTS, "chart-light.png") });

  // Host theme: dark.
  await page.evaluate(() => window.setTheme("dark"));
  state = await waitFor("the dark redraw", (d) => Number(d.draws) >= 2);
  const dark = await frame().evaluate(() => document.documentElement.dataset.theme);
  check(dark === "dark", "the view follows the host theme");
  await page.waitForTimeout(200);
  await page.locator("#app").screenshot({ path: join(ARTIFACTS, "chart-dark.png") });

  // Crosshair: hovering a candle shows its OHLCV.
  const box = await page.locator("#app").boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
  state = await waitFor("the crosshair legend", (d) => d.legendTime && d.legendTime !== String(analysis._meta["crypto-mcp/chart"].candles.at(-1)[0]));
  const legend = await app.locator("#legend").textContent();
  check(/O[\d.]+H[\d.]+L[\d.]+C[\d.]+V/.test(legend.replace(/\s/g, "")) && legend.includes("RSI 14"), "the crosshair legend shows the hovered candle's OHLCV and indicators", legend);
  await page.mouse.move(0, 0);

  // 2. Interval switch: a new technical_analysis call through the host.
  const before = (await canvasStats()).hash;
  let draws = Number(state.draws);
  await app.locator('#intervals button[data-interval="4h"]').click();
  state = await waitFor("the 4h chart", (d) => d.interval === "4h" && Number(d.draws) > draws && d.busy === "false");
  const switched = toolCalls.at(-1);
  check(switched?.name === "technical_analysis" && switched.arguments.interval === "4h" && switched.arguments.indicators.length === 5,
    "the interval switch called technical_analysis through the host", JSON.stringify(switched));
  check(state.candles === "186" && (await canvasStats()).hash !== before, "the interval switch drew a new chart (186 4h candles)", JSON.stringify(state));

  // "Load older" widens the analysis window.
  draws = Number(state.draws);
  await app.locator("#older").click();
  state = await waitFor("more candles", (d) => Number(d.draws) > draws && d.busy === "false");
  check(toolCalls.at(-1).arguments.limit === 686, "load older asked technical_analysis for a wider window", JSON.stringify(toolCalls.at(-1)));
  check(state.candles === "186", "January 2025 has no more 4h candles; the view says so", JSON.stringify(state));
  check(await app.locator("#older").isDisabled(), "load older is disabled when Binance has nothing older");

  // 3. A binance_klines result (light), then an indicator toggle and load older.
  await start("binance_klines", klinesArgs, klines);
  state = await waitFor("the klines chart", (d) => d.state === "ready" && Number(d.draws) >= 1);
  check(state.tool === "binance_klines" && state.candles === "200", "the klines chart drew 200 candles", JSON.stringify(state));
  stats = await canvasStats();
  check(stats.colours > 10 && stats.inked > 0.02, "the klines canvas is not blank", JSON.stringify(stats));
  // Zoom and pan: a plain wheel leaves the chart alone (the chat scrolls),
  // Ctrl + wheel zooms, a drag pans.
  const chartBox = await app.locator("#chart").boundingBox();
  await page.mouse.move(chartBox.x + chartBox.width / 2, chartBox.y + chartBox.height / 2);
  const width = (range) => range.split(":").map(Number).reduce((from, to) => to - from);
  const fitted = (await waitFor("a visible range", (d) => d.range)).range;
  await page.mouse.wheel(0, 400);
  await page.waitForTimeout(300);
  check((await data()).range === fitted, "a plain wheel over the chart does not zoom it");
  await page.keyboard.down("Control");
  await page.mouse.wheel(0, -400);
  await page.keyboard.up("Control");
  const zoomed = (await waitFor("a zoom", (d) => d.range !== fitted)).range;
  check(width(zoomed) < width(fitted), "Ctrl + wheel zooms in", `${fitted} -> ${zoomed}`);
  await page.mouse.down();
  await page.mouse.move(chartBox.x + chartBox.width / 2 + 200, chartBox.y + chartBox.height / 2, { steps: 8 });
  await page.mouse.up();
  const panned = (await waitFor("a pan", (d) => d.range !== zoomed)).range;
  check(Number(panned.split(":")[1]) < Number(zoomed.split(":")[1]), "dragging pans back in time", `${zoomed} -> ${panned}`);
  await page.mouse.move(0, 0);

  draws = Number(state.draws);
  await app.locator("#older").click();
  state = await waitFor("older klines", (d) => Number(d.draws) > draws && d.busy === "false");
  check(toolCalls.at(-1).name === "binance_klines" && toolCalls.at(-1).arguments.endTime === klines.structuredContent.candles[0][0] - 1,
    "load older pages binance_klines back from the first candle", JSON.stringify(toolCalls.at(-1)));
  check(state.candles === "700", "older candles were prepended (200 + 500)", JSON.stringify(state));
  draws = Number(state.draws);
  await app.locator('#indicators button[data-spec="ema:20"]').click();
  state = await waitFor("the EMA overlay", (d) => d.tool === "technical_analysis" && Number(d.draws) > draws && d.busy === "false");
  check(toolCalls.at(-1).name === "technical_analysis" && toolCalls.at(-1).arguments.indicators.includes("ema:20"),
    "an indicator toggle called technical_analysis through the host", JSON.stringify(toolCalls.at(-1)));
  check(await app.locator('#indicators button[data-spec="ema:20"]').getAttribute("aria-pressed") === "true", "the EMA 20 toggle is on");
  check((await hostLog()).includes("ui/update-model-context"), "the view told the model what the user now sees");
  await page.locator("#app").screenshot({ path: join(ARTIFACTS, "chart-klines-ema.png") });

  // 4. An error result and a result with no candles are shown in the view.
  const failed = await call("binance_klines", { symbol: "NOPEUSDT" });
  await start("binance_klines", { symbol: "NOPEUSDT" }, failed);
  state = await waitFor("the error", (d) => d.state === "error");
  const errorText = await app.locator("#message").textContent();
  check(failed.isError && errorText === failed.content[0].text, "a tool error is shown in the view", errorText);
  // The fake has no monthly candles (it derives 1m to 1w from its hours).
  const empty = await call("binance_klines", { symbol: "BTCUSDT", interval: "1M" });
  await start("binance_klines", { symbol: "BTCUSDT", interval: "1M" }, empty);
  state = await waitFor("too few candles", (d) => d.state === "too-few");
  check((await app.locator("#message").textContent()).includes("too few to draw a chart"), "too few candles are explained in the view");
  draws = Number(state.draws ?? 0);
  await app.locator('#intervals button[data-interval="1d"]').click();
  state = await waitFor("the 1d chart", (d) => d.state === "ready" && d.interval === "1d");
  check(state.candles === "31", "switching from an empty interval draws the chart", JSON.stringify(state));

  // 5. A USD-M mark-price chart keeps its series through load older and an
  // indicator toggle (it must never turn into spot trade prices).
  const markArgs = { symbol: "BTCUSDT", interval: "1h", limit: 200, market: "usdm", price: "mark" };
  const mark = await call("binance_klines", markArgs);
  await start("binance_klines", markArgs, mark);
  state = await waitFor("the mark-price chart", (d) => d.state === "ready" && d.candles === "200");
  draws = Number(state.draws);
  await app.locator("#older").click();
  state = await waitFor("older mark prices", (d) => Number(d.draws) > draws && d.busy === "false");
  const sameSeries = (args) => args.market === "usdm" && args.price === "mark";
  check(toolCalls.at(-1).name === "binance_klines" && sameSeries(toolCalls.at(-1).arguments),
    "load older keeps the market and price series", JSON.stringify(toolCalls.at(-1)));
  draws = Number(state.draws);
  await app.locator('#indicators button[data-spec="ema:20"]').click();
  state = await waitFor("an EMA over mark prices", (d) => d.tool === "technical_analysis" && Number(d.draws) > draws && d.busy === "false");
  check(sameSeries(toolCalls.at(-1).arguments), "an indicator toggle keeps the market and price series",
    JSON.stringify(toolCalls.at(-1)));

  // Nothing logged an error, and the page reached no other origin.
  check(problems.length === 0, "no console errors, CSP violations or page errors", problems.join(" | "));
  const foreign = requests.filter((u) => !u.startsWith(`${HOST_ORIGIN}/`) && !u.startsWith("data:") && !u.startsWith("about:"));
  check(foreign.length === 0, "no network requests outside the fake host's origin", foreign.join(" "));
  // Control, after the checks above: the host's CSP is really in force. A
  // probe document loaded the same way may not eval, and an image from
  // another origin is refused.
  const probe = `<!doctype html><html><head><title>probe</title></head><body><script>
    const say = (method, params) => parent.postMessage({ jsonrpc: "2.0", method, params }, "*");
    document.addEventListener("securitypolicyviolation", (e) => say("probe/violation", { directive: e.effectiveDirective }));
    let evalWorks; try { evalWorks = eval("1") === 1; } catch (e) { evalWorks = false; }
    say("probe/eval", { evalWorks });
    new Image().src = "http://127.0.0.1:9/blocked.png";
  </script></body></html>`;
  await page.evaluate((html) => window.startApp({ html, theme: "light" }), probe);
  await page.waitForFunction(() => window.hostLog.some((m) => m.method === "probe/violation"), null, { timeout: WAIT_MS }).catch(() => {});
  const probed = await page.evaluate(() => window.hostLog);
  check(probed.some((m) => m.method === "probe/eval" && m.params.evalWorks === false), "the host's CSP has no unsafe-eval", JSON.stringify(probed));
  check(probed.some((m) => m.method === "probe/violation" && m.params.directive === "img-src"), "the host's CSP blocks other origins", JSON.stringify(probed));
} finally {
  await browser.close();
  hostServer.close();
}
console.log(`screenshots: ${["chart-light.png", "chart-dark.png", "chart-klines-ema.png"].map((f) => join(ARTIFACTS, f)).join(" ")}`);
console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);

// The crypto-mcp chart view: an MCP Apps "View" (extension
// io.modelcontextprotocol/ui, revision 2026-01-26) speaking JSON-RPC 2.0 to
// its host over postMessage, with no SDK.
//
// It draws a binance_klines or technical_analysis result: candles and volume
// from structuredContent, and for technical_analysis every indicator line from
// the result's _meta["crypto-mcp/chart"] (the model sees only a few values).
// Everything it does later (another interval, another indicator, older
// candles) is a tools/call through the host to the same server, so it never
// needs the network itself and runs under the host's default CSP.
(function () {
  "use strict";

  const LWC = window.LightweightCharts;
  const PROTOCOL_VERSION = "2026-01-26";
  const APP_INFO = { name: "crypto-mcp-chart", version: "1.0.0" };
  const CHART_META_KEY = "crypto-mcp/chart";
  const INTERVALS = ["15m", "1h", "4h", "1d", "1w"];
  // Offered as toggles; any other indicator a result carries is added.
  const STANDARD_INDICATORS = ["ema:20", "ema:50", "sma:200", "bbands:20,2", "rsi:14", "macd:12,26,9"];
  // Indicators drawn on the price pane; the rest get a pane of their own.
  const PRICE_OVERLAYS = new Set(["sma", "ema", "wma", "bbands", "vwap"]);
  // Oscillator panes shown at first; more can be switched on.
  const DEFAULT_PANES = 2;
  // Fewer candles than this make no chart worth drawing.
  const MIN_CANDLES = 2;
  // binance_klines candles per "load older" page (its maximum is 1000).
  const OLDER_PAGE = 500;
  // Candles "load older" accumulates at most, to keep the view responsive.
  const MAX_VIEW_CANDLES = 5000;
  // technical_analysis computes over at most this many candles, and needs
  // this many for its default sma:200.
  const TA_MAX_LIMIT = 1000;
  const TA_MIN_LIMIT = 200;
  // A host that never answers must not leave a button spinning forever.
  const REQUEST_TIMEOUT_MS = 60000;
  const PRICE_PANE_HEIGHT = 340;
  const EXTRA_PANE_HEIGHT = 120;
  const MIN_CHART_HEIGHT = 200;
  const LINE_COLORS = ["#2962ff", "#ff6d00", "#9c27b0", "#00897b", "#e91e63", "#795548", "#607d8b"];
  // Reference levels drawn in oscillator panes.
  const LEVELS = { rsi: [70, 30], stoch: [80, 20], mfi: [80, 20], cci: [100, -100] };

  const $ = (id) => document.getElementById(id);
  const app = $("app");

  // ---- JSON-RPC over postMessage -------------------------------------------

  let nextId = 1;
  const pending = new Map();

  function post(message) {
    window.parent.postMessage(message, "*");
  }

  function request(method, params) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the host did not answer " + method + " in time"));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      post({ jsonrpc: "2.0", id, method, params });
    });
  }

  function notify(method, params) {
    post({ jsonrpc: "2.0", method, params });
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const msg = event.data;
    if (!msg || typeof msg !== "object" || msg.jsonrpc !== "2.0") return;
    if (typeof msg.method === "string") {
      if (msg.id === undefined || msg.id === null) onNotification(msg.method, msg.params || {});
      else onRequest(msg.id, msg.method);
      return;
    }
    const waiting = pending.get(msg.id);
    if (!waiting) return;
    pending.delete(msg.id);
    clearTimeout(waiting.timer);
    if (msg.error) waiting.reject(new Error(msg.error.message || "the host refused the request"));
    else waiting.resolve(msg.result);
  });

  function onRequest(id, method) {
    if (method === "ping" || method === "ui/resource-teardown") {
      post({ jsonrpc: "2.0", id, result: {} });
    } else {
      post({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found: " + method } });
    }
  }

  function onNotification(method, params) {
    switch (method) {
      case "ui/notifications/tool-input":
        view.args = isObject(params.arguments) ? params.arguments : {};
        if (!view.candles.length) setState("loading", "Loading " + describeArgs(view.args) + "…");
        break;
      case "ui/notifications/tool-result":
        showResult(params, false);
        break;
      case "ui/notifications/tool-cancelled":
        setState(view.candles.length ? "ready" : "error", "The tool call was cancelled" +
          (params.reason ? ": " + params.reason : "."), "error");
        break;
      case "ui/notifications/host-context-changed":
        applyContext(params);
        break;
      default:
        break;
    }
  }

  // ---- Host context: theme, styles, size -------------------------------------

  const host = { capabilities: {}, context: {} };

  function applyContext(context) {
    if (!isObject(context)) return;
    Object.assign(host.context, context);
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    const theme = host.context.theme === "dark" || host.context.theme === "light"
      ? host.context.theme : (dark ? "dark" : "light");
    document.documentElement.dataset.theme = theme;
    const variables = host.context.styles && host.context.styles.variables;
    if (isObject(variables)) {
      for (const [name, value] of Object.entries(variables)) {
        if (name.startsWith("--") && typeof value === "string") {
          document.documentElement.style.setProperty(name, value);
        }
      }
    }
    const insets = host.context.safeAreaInsets;
    if (isObject(insets)) {
      const px = (v) => (Number.isFinite(v) ? v : 0) + "px";
      app.style.paddingLeft = "calc(10px + " + px(insets.left) + ")";
      app.style.paddingRight = "calc(10px + " + px(insets.right) + ")";
      app.style.paddingBottom = "calc(6px + " + px(insets.bottom) + ")";
    }
    if (chart) draw(true);
  }

  // Canvas needs concrete colours; the host's may be light-dark() or var()s,
  // so let the browser resolve them.
  function resolveColor(variable) {
    const probe = document.createElement("span");
    probe.className = "probe";
    probe.style.color = "var(" + variable + ")";
    document.body.appendChild(probe);
    const color = getComputedStyle(probe).color;
    probe.remove();
    return color;
  }

  function palette() {
    return {
      bg: resolveColor("--bg"),
      fg: resolveColor("--fg"),
      muted: resolveColor("--muted"),
      border: resolveColor("--border"),
      grid: resolveColor("--grid"),
      up: resolveColor("--up"),
      down: resolveColor("--down"),
      font: getComputedStyle(document.documentElement).fontFamily,
    };
  }

  // Reports the document's size whenever it changes, once per frame at most:
  // a flood of size-changed notifications makes hosts stutter.
  let reportedSize = "";
  let sizeQueued = false;
  function queueSizeReport() {
    if (sizeQueued) return;
    sizeQueued = true;
    requestAnimationFrame(() => {
      sizeQueued = false;
      const width = Math.ceil(document.documentElement.getBoundingClientRect().width);
      const height = Math.ceil(app.getBoundingClientRect().height);
      const size = width + "x" + height;
      if (size === reportedSize) return;
      reportedSize = size;
      notify("ui/notifications/size-changed", { width, height });
    });
  }

  // The chart's height never depends on the frame's height, which the host
  // sets from what we report: that would loop.
  function chartHeight(panes) {
    const wanted = PRICE_PANE_HEIGHT + panes * EXTRA_PANE_HEIGHT;
    const dims = host.context.containerDimensions || {};
    const chrome = app.getBoundingClientRect().height - $("stage").getBoundingClientRect().height;
    if (Number.isFinite(dims.height)) return Math.max(MIN_CHART_HEIGHT, dims.height - chrome);
    if (Number.isFinite(dims.maxHeight)) return Math.max(MIN_CHART_HEIGHT, Math.min(wanted, dims.maxHeight - chrome));
    return wanted;
  }

  // ---- Tool results -> view state --------------------------------------------

  const view = {
    tool: "",
    args: {},
    symbol: "",
    interval: "",
    candles: [],
    indicators: [],
    hidden: new Set(),
    shown: new Set(),
    precision: 2,
    olderDone: false,
    busy: false,
    draws: 0,
  };

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function resultText(result) {
    const blocks = Array.isArray(result.content) ? result.content : [];
    return blocks.filter((b) => b && b.type === "text" && typeof b.text === "string").map((b) => b.text).join("\n");
  }

  function toCandles(rows) {
    const candles = [];
    for (const row of rows) {
      if (!Array.isArray(row) || row.length < 6) continue;
      const [openTime, ...texts] = row;
      const values = texts.slice(0, 5).map(Number);
      if (!Number.isFinite(openTime) || !values.every(Number.isFinite)) continue;
      candles.push({
        openTime,
        time: Math.floor(openTime / 1000),
        open: values[0], high: values[1], low: values[2], close: values[3], volume: values[4],
        text: texts.slice(0, 5).map(String),
      });
    }
    candles.sort((a, b) => a.openTime - b.openTime);
    return candles.filter((c, i) => i === 0 || c.openTime !== candles[i - 1].openTime);
  }

  function indicatorKind(spec) {
    return String(spec).split(":")[0];
  }

  function indicatorLabel(spec) {
    const [name, params] = String(spec).split(":");
    const shown = name === "bbands" ? "BB" : name.toUpperCase();
    return params ? shown + " " + params : shown;
  }

  // A result becomes {tool, symbol, interval, candles, indicators}, or
  // {error} saying why there is nothing to draw.
  function parseResult(result) {
    if (!isObject(result)) return { error: "The host sent no tool result." };
    if (result.isError) return { error: resultText(result) || "The tool failed without saying why." };
    const data = result.structuredContent;
    if (!isObject(data)) return { error: "This result carries no chart data." };
    const base = { symbol: String(data.symbol || ""), interval: String(data.interval || "") };
    if (Array.isArray(data.candles)) {
      return Object.assign(base, { tool: "binance_klines", candles: toCandles(data.candles), indicators: [] });
    }
    const chart = isObject(result._meta) ? result._meta[CHART_META_KEY] : null;
    if (Array.isArray(data.indicators) && isObject(chart) && Array.isArray(chart.candles)) {
      const candles = toCandles(chart.candles);
      const indicators = (Array.isArray(chart.indicators) ? chart.indicators : [])
        .filter((i) => isObject(i) && typeof i.spec === "string" && Array.isArray(i.lines))
        .map((i) => ({
          spec: i.spec,
          kind: indicatorKind(i.spec),
          label: indicatorLabel(i.spec),
          overlay: PRICE_OVERLAYS.has(indicatorKind(i.spec)),
          lines: i.lines
            .filter((l) => isObject(l) && Array.isArray(l.values) && l.values.length === candles.length)
            .map((l) => ({ name: String(l.name), values: l.values.map((v) => (Number.isFinite(v) ? v : null)) })),
        }));
      return Object.assign(base, { tool: "technical_analysis", candles, indicators });
    }
    return { error: "This result carries no candles to draw." };
  }

  // Digits after the point the closes need (Binance pads to 8), 2 to 8.
  function pricePrecision(candles) {
    let digits = 2;
    for (const c of candles.slice(-200)) {
      const fraction = (c.text[3].split(".")[1] || "").replace(/0+$/, "");
      digits = Math.max(digits, fraction.length);
    }
    return Math.min(digits, 8);
  }

  // Shows a result; `fromUser` marks one the user asked for in the view.
  function showResult(result, fromUser) {
    const parsed = parseResult(result);
    if (parsed.error) {
      if (fromUser && view.candles.length) setState("ready", parsed.error, "error");
      else setState("error", parsed.error, "error");
      return false;
    }
    view.tool = parsed.tool;
    view.symbol = parsed.symbol;
    view.interval = parsed.interval;
    view.candles = parsed.candles;
    view.indicators = parsed.indicators;
    view.precision = pricePrecision(parsed.candles);
    view.olderDone = false;
    chooseShownPanes();
    renderHeader();
    if (view.candles.length < MIN_CANDLES) {
      disposeChart();
      setState("too-few", (view.candles.length ? "Only one candle" : "No candles") + " for " +
        describe() + ": too few to draw a chart. Pick a longer interval or a wider time range.", "info");
      return true;
    }
    setState("ready");
    draw(false);
    return true;
  }

  // Oscillators get a pane each; the first few are shown unless the user
  // already chose.
  function chooseShownPanes() {
    let shown = 0;
    for (const indicator of view.indicators) {
      if (indicator.overlay || view.hidden.has(indicator.spec) || view.shown.has(indicator.spec)) continue;
      if (shown < DEFAULT_PANES) view.shown.add(indicator.spec);
      else view.hidden.add(indicator.spec);
      shown += 1;
    }
  }

  function visible(indicator) {
    return !view.hidden.has(indicator.spec);
  }

  function describe() {
    return [view.symbol, view.interval].filter(Boolean).join(" ") || "this market";
  }

  function describeArgs(args) {
    return [args.symbol, args.interval].filter((v) => typeof v === "string").join(" ") || "the chart";
  }

  // ---- Drawing -----------------------------------------------------------------

  let chart = null;
  let candleSeries = null;
  let legendSeries = [];

  function disposeChart() {
    if (chart) chart.remove();
    chart = null;
    candleSeries = null;
    legendSeries = [];
  }

  function draw(keepRange) {
    const range = keepRange && chart ? chart.timeScale().getVisibleLogicalRange() : null;
    disposeChart();
    if (!LWC) {
      setState("error", "The chart library did not load.", "error");
      return;
    }
    const colors = palette();
    const panes = view.indicators.filter((i) => !i.overlay && visible(i));
    const container = $("chart");
    container.style.height = chartHeight(panes.length) + "px";
    const intraday = !/^(1d|3d|1w|1M)$/.test(view.interval);
    try {
      chart = LWC.createChart(container, {
        autoSize: true,
        layout: {
          background: { type: "solid", color: colors.bg },
          textColor: colors.muted,
          fontFamily: colors.font,
          attributionLogo: true,
          panes: { separatorColor: colors.border, separatorHoverColor: colors.grid },
        },
        grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
        rightPriceScale: { borderColor: colors.border },
        timeScale: { borderColor: colors.border, timeVisible: intraday, secondsVisible: view.interval === "1s" },
        crosshair: { mode: LWC.CrosshairMode.Normal },
        // A vertical swipe over the chart scrolls the conversation.
        handleScroll: { vertTouchDrag: false },
        localization: { locale: typeof host.context.locale === "string" ? host.context.locale : "en-US" },
      });
      drawCandles(colors);
      view.indicators.forEach((indicator, i) => {
        if (!visible(indicator)) return;
        const color = LINE_COLORS[i % LINE_COLORS.length];
        if (indicator.overlay) drawOverlay(indicator, color);
      });
      panes.forEach((indicator, i) => drawPane(indicator, i + 1, colors));
      chart.panes().forEach((pane, i) => pane.setStretchFactor(i === 0 ? PRICE_PANE_HEIGHT : EXTRA_PANE_HEIGHT));
      chart.subscribeCrosshairMove((param) => renderLegend(param.logical));
      chart.timeScale().subscribeVisibleLogicalRangeChange((shown) => {
        if (shown) app.dataset.range = Math.round(shown.from) + ":" + Math.round(shown.to);
      });
      if (range) chart.timeScale().setVisibleLogicalRange(range);
      else chart.timeScale().fitContent();
    } catch (error) {
      disposeChart();
      setState("error", "The chart could not be drawn: " + error.message, "error");
      return;
    }
    view.draws += 1;
    // What was drawn, for the browser test and for anyone inspecting the view.
    Object.assign(app.dataset, {
      draws: String(view.draws), tool: view.tool, interval: view.interval, candles: String(view.candles.length),
    });
    renderLegend(null);
    queueSizeReport();
  }

  function drawCandles(colors) {
    const step = Math.pow(10, -view.precision);
    candleSeries = chart.addSeries(LWC.CandlestickSeries, {
      upColor: colors.up, downColor: colors.down, wickUpColor: colors.up, wickDownColor: colors.down,
      borderVisible: false,
      priceFormat: { type: "price", precision: view.precision, minMove: step },
    });
    candleSeries.setData(view.candles.map((c) => ({ time: c.time, open: c.open, high: c.high, low: c.low, close: c.close })));
    const volume = chart.addSeries(LWC.HistogramSeries, {
      priceFormat: { type: "volume" }, priceScaleId: "volume", lastValueVisible: false, priceLineVisible: false,
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    volume.setData(view.candles.map((c) => ({
      time: c.time, value: c.volume, color: c.close >= c.open ? withAlpha(colors.up) : withAlpha(colors.down),
    })));
  }

  function withAlpha(rgb) {
    const match = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb);
    return match ? "rgba(" + match[1] + "," + match[2] + "," + match[3] + ",0.35)" : rgb;
  }

  function lineData(values) {
    const data = [];
    values.forEach((value, i) => {
      if (value !== null) data.push({ time: view.candles[i].time, value });
    });
    return data;
  }

  function addLine(indicator, line, options, paneIndex) {
    const series = chart.addSeries(LWC.LineSeries, Object.assign({
      lineWidth: 1.5, priceLineVisible: false, crosshairMarkerVisible: false,
    }, options), paneIndex);
    series.setData(lineData(line.values));
    legendSeries.push({ indicator, line, color: options.color });
    return series;
  }

  function drawOverlay(indicator, color) {
    const bands = indicator.kind === "bbands";
    const step = Math.pow(10, -view.precision);
    for (const line of indicator.lines) {
      addLine(indicator, line, {
        color,
        lineWidth: bands && line.name !== "middle" ? 1 : 1.5,
        lineStyle: bands && line.name === "middle" ? 2 : 0,
        lastValueVisible: false,
        priceFormat: { type: "price", precision: view.precision, minMove: step },
      }, 0);
    }
  }

  function drawPane(indicator, paneIndex, colors) {
    indicator.lines.forEach((line, i) => {
      if (indicator.kind === "macd" && line.name === "histogram") {
        const histogram = chart.addSeries(LWC.HistogramSeries, {
          priceLineVisible: false, lastValueVisible: false,
        }, paneIndex);
        histogram.setData(line.values.map((value, j) => (value === null
          ? { time: view.candles[j].time }
          : { time: view.candles[j].time, value, color: value >= 0 ? withAlpha(colors.up) : withAlpha(colors.down) })));
        legendSeries.push({ indicator, line, color: colors.muted });
        return;
      }
      const series = addLine(indicator, line, {
        color: LINE_COLORS[i % LINE_COLORS.length],
        title: i === 0 ? indicator.label : "",
        lastValueVisible: true,
      }, paneIndex);
      if (i === 0) {
        for (const level of LEVELS[indicator.kind] || []) {
          series.createPriceLine({ price: level, color: colors.muted, lineWidth: 1, lineStyle: 2, axisLabelVisible: false });
        }
      }
    });
  }

  // ---- Header, legend, messages ------------------------------------------------

  function trimDecimal(text) {
    return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  }

  function formatVolume(value) {
    const locale = typeof host.context.locale === "string" ? host.context.locale : "en-US";
    try {
      return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 2 }).format(value);
    } catch (_) {
      return String(value);
    }
  }

  function formatTime(openTime) {
    const iso = new Date(openTime).toISOString();
    const intraday = !/^(1d|3d|1w|1M)$/.test(view.interval);
    return (intraday ? iso.slice(0, 16).replace("T", " ") : iso.slice(0, 10)) + " UTC";
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  function renderLegend(logical) {
    const legend = $("legend");
    legend.replaceChildren();
    if (!view.candles.length) return;
    const last = view.candles.length - 1;
    const index = Number.isFinite(logical) ? Math.min(last, Math.max(0, Math.round(logical))) : last;
    const c = view.candles[index];
    const change = c.open ? ((c.close - c.open) / c.open) * 100 : 0;
    const direction = c.close >= c.open ? "up" : "down";
    const prices = document.createElement("div");
    prices.className = "row";
    prices.append(span("time", formatTime(c.openTime)));
    ["O", "H", "L", "C"].forEach((key, i) => {
      prices.append(span("k", key), span("v " + direction, trimDecimal(c.text[i])));
    });
    prices.append(span("k", "V"), span("v", formatVolume(c.volume)),
      span("v " + direction, (change >= 0 ? "+" : "") + change.toFixed(2) + "%"));
    legend.append(prices);
    const values = document.createElement("div");
    values.className = "row";
    const seen = new Set();
    for (const entry of legendSeries) {
      if (seen.has(entry.indicator.spec)) continue;
      seen.add(entry.indicator.spec);
      const numbers = legendSeries
        .filter((e) => e.indicator === entry.indicator)
        .map((e) => e.line.values[index])
        .map((v) => (v === null || v === undefined ? "–" : v.toFixed(entry.indicator.overlay ? view.precision : 2)));
      const label = span("k", entry.indicator.label);
      label.style.color = entry.color;
      values.append(label, span("v", numbers.join(" / ")));
    }
    if (values.childElementCount) legend.append(values);
    app.dataset.legendTime = String(c.openTime);
  }

  function button(label, pressed, onClick, title) {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.setAttribute("aria-pressed", pressed ? "true" : "false");
    if (title) element.title = title;
    element.addEventListener("click", onClick);
    return element;
  }

  function canCallTools() {
    return isObject(host.capabilities.serverTools);
  }

  function renderHeader() {
    $("symbol").textContent = view.symbol || "Chart";
    $("subtitle").textContent = view.interval ? " · " + view.interval + " · Binance" : "";
    const calls = canCallTools();
    const offline = calls ? "" : "This host does not let apps call tools";
    const intervals = INTERVALS.includes(view.interval) || !view.interval ? INTERVALS.slice() : INTERVALS.concat(view.interval);
    $("intervals").replaceChildren(...intervals.map((interval) => {
      const b = button(interval, interval === view.interval, () => switchInterval(interval), offline);
      b.disabled = view.busy || !calls || interval === view.interval;
      b.dataset.interval = interval;
      return b;
    }));
    const loaded = new Map(view.indicators.map((i) => [i.spec, i]));
    const specs = STANDARD_INDICATORS.concat(view.indicators.map((i) => i.spec).filter((s) => !STANDARD_INDICATORS.includes(s)));
    $("indicators").replaceChildren(...specs.map((spec) => {
      const indicator = loaded.get(spec);
      const on = Boolean(indicator) && visible(indicator);
      const b = button(indicatorLabel(spec), on, () => toggleIndicator(spec), indicator ? "" : offline);
      b.disabled = view.busy || (!indicator && !calls) || !view.symbol;
      b.dataset.spec = spec;
      return b;
    }));
    const older = $("older");
    const full = view.tool === "technical_analysis" ? view.candles.length >= TA_MAX_LIMIT : view.candles.length >= MAX_VIEW_CANDLES;
    older.disabled = view.busy || !calls || !view.symbol || view.olderDone || full || view.candles.length < MIN_CANDLES;
    older.title = full ? "This view holds as many candles as it can" : view.olderDone ? "Binance has no older candles" : offline || "Load the candles before the first one shown";
  }

  function setState(state, message, kind) {
    app.dataset.state = state;
    const box = $("message");
    if (message) {
      box.textContent = message;
      box.dataset.kind = kind || "info";
      box.hidden = false;
    } else {
      box.hidden = true;
    }
    queueSizeReport();
  }

  // ---- Actions through the host (tools/call) -------------------------------------

  async function run(label, name, args, apply) {
    if (view.busy) return;
    view.busy = true;
    app.dataset.busy = "true";
    renderHeader();
    setState(app.dataset.state === "waiting" ? "loading" : app.dataset.state, label + "…", "info");
    let message = "";
    try {
      const result = await request("tools/call", { name, arguments: args });
      message = apply(result) || "";
    } catch (error) {
      message = "Could not load: " + error.message;
    }
    view.busy = false;
    app.dataset.busy = "false";
    renderHeader();
    if (!message) {
      // A result with too few candles keeps the message saying so.
      if (app.dataset.state !== "too-few") setState("ready");
      tellModel();
    } else if (view.candles.length >= MIN_CANDLES) {
      setState("ready", message, "error");
    } else {
      setState(app.dataset.state === "too-few" ? "too-few" : "error", message, "error");
    }
  }

  // The arguments that keep the current view's choices (limit, indicators,
  // points) but not its time window, which another interval would not fit.
  function baseArgs() {
    const args = Object.assign({}, view.args);
    delete args.startTime;
    delete args.endTime;
    if (view.symbol) args.symbol = view.symbol;
    return args;
  }

  // Which market and price series the chart shows: every follow-up call
  // keeps them, so a USD-M mark-price chart never turns into spot trades.
  function seriesArgs() {
    const args = { symbol: view.symbol };
    for (const key of ["market", "price"]) {
      if (typeof view.args[key] === "string") args[key] = view.args[key];
    }
    return args;
  }

  function switchInterval(interval) {
    const args = Object.assign(baseArgs(), { interval });
    run("Loading " + view.symbol + " " + interval, view.tool, args, (result) => {
      const previous = view.args;
      view.args = args;
      const shown = showResult(result, true);
      if (!shown) view.args = previous;
      return shown ? "" : resultText(result) || "The tool returned nothing to draw.";
    });
  }

  function toggleIndicator(spec) {
    const loaded = view.indicators.find((i) => i.spec === spec);
    if (loaded) {
      if (view.hidden.has(spec)) { view.hidden.delete(spec); view.shown.add(spec); } else { view.hidden.add(spec); view.shown.delete(spec); }
      renderHeader();
      draw(true);
      return;
    }
    view.hidden.delete(spec);
    view.shown.add(spec);
    const specs = view.indicators.map((i) => i.spec).concat(spec);
    const args = view.tool === "technical_analysis" ? baseArgs() : seriesArgs();
    Object.assign(args, {
      interval: view.interval,
      indicators: specs,
      limit: Math.min(TA_MAX_LIMIT, Math.max(view.candles.length, TA_MIN_LIMIT)),
    });
    run("Computing " + indicatorLabel(spec), "technical_analysis", args, (result) => {
      const previous = { tool: view.tool, args: view.args };
      view.args = args;
      if (showResult(result, true)) return "";
      Object.assign(view, previous);
      return resultText(result) || "The tool returned nothing to draw.";
    });
  }

  function loadOlder() {
    const first = view.candles[0];
    if (!first) return;
    if (view.tool === "technical_analysis") {
      const limit = Math.min(TA_MAX_LIMIT, view.candles.length + OLDER_PAGE);
      const before = view.candles.length;
      const args = Object.assign(baseArgs(), { interval: view.interval, limit });
      run("Loading older candles", "technical_analysis", args, (result) => {
        const range = chart ? chart.timeScale().getVisibleLogicalRange() : null;
        const parsed = parseResult(result);
        if (parsed.error) return parsed.error;
        view.args = args;
        showResult(result, true);
        const added = view.candles.length - before;
        view.olderDone = added <= 0;
        shiftRange(range, added);
        renderHeader();
        return "";
      });
      return;
    }
    const args = Object.assign(seriesArgs(), { interval: view.interval, limit: OLDER_PAGE, endTime: first.openTime - 1 });
    if (typeof view.args.timeZone === "string") args.timeZone = view.args.timeZone;
    run("Loading older candles", "binance_klines", args, (result) => {
      const parsed = parseResult(result);
      if (parsed.error) return parsed.error;
      const older = parsed.candles.filter((c) => c.openTime < first.openTime);
      if (!older.length) {
        view.olderDone = true;
        return "Binance has no candles before " + formatTime(first.openTime) + ".";
      }
      const range = chart ? chart.timeScale().getVisibleLogicalRange() : null;
      view.candles = older.concat(view.candles).slice(-MAX_VIEW_CANDLES);
      draw(false);
      shiftRange(range, older.length);
      renderHeader();
      return "";
    });
  }

  // Keeps the candles that were on screen on screen after some are prepended.
  function shiftRange(range, added) {
    if (!chart || !range || added <= 0) return;
    chart.timeScale().setVisibleLogicalRange({ from: range.from + added, to: range.to + added });
  }

  // Tells the model what the user now looks at, so a follow-up question
  // ("what about this dip?") refers to the right chart.
  function tellModel() {
    if (!isObject(host.capabilities.updateModelContext) || view.candles.length < MIN_CANDLES) return;
    const first = view.candles[0];
    const last = view.candles[view.candles.length - 1];
    const shown = view.indicators.filter(visible).map((i) => i.label);
    const text = "The user switched the chart app to " + describe() + ": " + view.candles.length +
      " candles from " + formatTime(first.openTime) + " to " + formatTime(last.openTime) +
      ", last close " + trimDecimal(last.text[3]) + (shown.length ? "; indicators: " + shown.join(", ") : "") + ".";
    request("ui/update-model-context", { content: [{ type: "text", text }] }).catch(() => {});
  }

  $("older").addEventListener("click", loadOlder);

  // In a chat a plain wheel must scroll the conversation, not zoom the chart:
  // only Ctrl/Cmd + wheel (a trackpad pinch arrives as one) or a sideways
  // scroll reaches the chart, which zooms or pans.
  $("chart").addEventListener("wheel", (event) => {
    if (!event.ctrlKey && !event.metaKey && Math.abs(event.deltaY) >= Math.abs(event.deltaX)) {
      event.stopPropagation();
    }
  }, { capture: true });

  // Links (the TradingView attribution) open through the host when it can:
  // a sandboxed frame may not open windows itself.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (!link || !isObject(host.capabilities.openLinks)) return;
    event.preventDefault();
    request("ui/open-link", { url: link.href }).catch(() => {});
  }, true);

  new ResizeObserver(queueSizeReport).observe(app);

  // ---- Start -------------------------------------------------------------------

  applyContext({});
  renderHeader();
  request("ui/initialize", {
    appInfo: APP_INFO,
    appCapabilities: { availableDisplayModes: ["inline"] },
    protocolVersion: PROTOCOL_VERSION,
  }).then((result) => {
    host.capabilities = isObject(result && result.hostCapabilities) ? result.hostCapabilities : {};
    applyContext(result && result.hostContext);
    renderHeader();
    notify("ui/notifications/initialized", {});
  }, (error) => {
    setState("error", "The chat app did not start the chart: " + error.message, "error");
  });
})();

/**
 * The status page's script, run by the browser (status-page.ts inlines it).
 * It polls 'status' (relative, so the page also works behind a path prefix)
 * every 2 s and redraws. Every value from the server reaches the DOM as text
 * (append of a string, textContent, setAttribute), never as HTML. In a
 * process with several sources the page's own ?source= goes along, and the
 * answer's list of sources becomes links to the others.
 *
 * Plain JavaScript in a string, so that it ships inside the compiled module
 * (dist/) with nothing to copy beside it. Inside: no backtick, no dollar-brace.
 */
export const STATUS_PAGE_SCRIPT = String.raw`'use strict';

const POLL_MS = 2000;
const TIMEOUT_MS = 5000;
const LOCAL_SAMPLES = 300;
/** Sinks' colours (table swatches, rows/s lines); the lag charts have their own. */
const COLORS = ['#2f81f7', '#d2740c', '#1a7f37', '#0598bc', '#bf8700', '#cf222e', '#6e7781'];
const LAG_BYTES_COLOR = '#8250df';
const LAG_SECONDS_COLOR = '#bf3989';
const SVG = 'http://www.w3.org/2000/svg';
/** The source shown, of a process that runs several; null for a one-source worker. */
const SOURCE = new URLSearchParams(location.search).get('source');
const STATUS_QUERY = SOURCE === null ? '' : '?source=' + encodeURIComponent(SOURCE);

let windowMinutes = 5;
let last = null;
/** Samples this page took itself, for a server that has no history yet (or newer than its last). */
const local = [];
let failingSince = 0;

const $ = (id) => document.getElementById(id);

/** An element with attributes (skipped when null/false) and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// ── formatting ────────────────────────────────────────────────────────────────

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : value < 10 ? 2 : value < 100 ? 1 : 0;
  return (n < 0 ? '−' : '') + value.toFixed(digits) + ' ' + BYTE_UNITS[unit];
}

function fmtDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '–';
  if (seconds < 10) return (seconds === 0 ? '0' : seconds.toFixed(seconds < 1 ? 2 : 1)) + ' s';
  if (seconds < 60) return Math.round(seconds) + ' s';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min ' + Math.floor(seconds % 60) + ' s';
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours + ' h ' + (minutes % 60) + ' min';
  return Math.floor(hours / 24) + ' d ' + (hours % 24) + ' h';
}

function fmtCount(n) {
  return typeof n === 'number' ? Math.round(n).toLocaleString('en-US') : '–';
}

function fmtRate(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return (n === 0 ? '0' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')) + ' rows/s';
}

/** The server's clock now (the page's clock may be off). */
function serverNow(status) {
  return Date.parse(status.startedAt) + status.uptimeSeconds * 1000;
}

function fmtAgo(iso, status) {
  if (!iso) return 'never';
  return fmtDuration(Math.max(0, (serverNow(status) - Date.parse(iso)) / 1000)) + ' ago';
}

/** A figure a test can read: human text, the raw number in data-value. */
function figure(testid, value, text, cls) {
  return el('span', { 'data-testid': testid, 'data-value': value, class: cls }, text);
}

function row(label, ...value) {
  return el('div', { class: 'kv' }, el('span', { class: 'k' }, label), el('span', { class: 'v' }, ...value));
}

// ── sections ──────────────────────────────────────────────────────────────────

function renderHeader(s) {
  const state = $('state');
  state.textContent = s.ready ? 'ready' : 'not ready';
  state.className = 'state ' + (s.ready ? 'ok' : 'bad');
  state.setAttribute('data-ready', String(s.ready));
  $('pipeline-state').textContent = s.state;
  $('version').textContent = 'v' + s.version;
  $('uptime').textContent = fmtDuration(s.uptimeSeconds);
  $('uptime').setAttribute('data-value', String(s.uptimeSeconds));
  $('reasons').replaceChildren(...(s.ready ? [] : (s.readyReasons || []).map((r) => el('li', {}, r))));
  document.title = (s.ready ? '● ready' : '✕ not ready') + ' · slotline ' + (s.name ? s.name + ' · ' : '') + s.source.slot;
}

/** Links to every source of the process (absent for a one-source worker), this one marked. */
function renderSources(s) {
  const nav = $('sources');
  nav.hidden = !Array.isArray(s.sources);
  // A 404's list holds bare names.
  const sources = (s.sources || []).map((src) => (typeof src === 'string' ? { name: src, ready: false, state: 'unknown' } : src));
  nav.replaceChildren(...sources.map((src) =>
    el('a', { href: '?source=' + encodeURIComponent(src.name), class: src.ready ? 'ok' : 'bad', 'aria-current': src.name === SOURCE ? 'page' : null, 'data-testid': 'source-' + src.name, title: src.state }, src.name),
  ));
}

function renderCards(s) {
  const src = s.source;
  $('source').replaceChildren(
    row('server', figure('server', null, src.server), ' (PostgreSQL ' + src.serverVersion + ')'),
    row('database', src.database),
    row('slot', figure('slot', null, src.slot)),
    row('publication', src.publication),
    row('tables', src.tables === null ? 'all tables of the publication' : src.tables.join(', ')),
  );
  $('lag').replaceChildren(
    el('div', { class: 'big' }, figure('lag-bytes', s.lag.bytes, fmtBytes(s.lag.bytes)), el('small', {}, 'behind the server')),
    el('div', { class: 'big' }, figure('lag-seconds', s.lag.seconds, fmtDuration(s.lag.seconds)), el('small', {}, 'oldest unconfirmed change')),
    row('received', figure('received-lsn', null, s.positions.received)),
    row('confirmed', figure('confirmed-lsn', null, s.positions.confirmed)),
    row('server WAL end', figure('server-wal-end', null, s.positions.serverWalEnd)),
  );
  $('slot').replaceChildren(...slotRows(s));
  const f = s.inFlight;
  const paused = f.pausedBy && f.pausedBy.length > 0;
  $('in-flight').replaceChildren(
    row('in flight', figure('in-flight-bytes', f.bytes, fmtBytes(f.bytes)), ' of ', fmtBytes(f.ceilingBytes)),
    bar(f.bytes, f.ceilingBytes, 'in-flight-bar'),
    row('reading', el('span', { class: paused ? 'warn' : 'good', 'data-testid': 'paused' }, paused ? 'paused: ' + f.pausedBy.join(', ') : 'flowing')),
    row('transactions', figure('transactions-received', s.counters.transactionsReceived, fmtCount(s.counters.transactionsReceived))),
    row('events', figure('events-received', s.counters.eventsReceived, fmtCount(s.counters.eventsReceived))),
    row('reconnects', figure('reconnects', s.counters.reconnects, fmtCount(s.counters.reconnects))),
    row('heartbeats', fmtCount(s.counters.heartbeats) + ', last ' + fmtAgo(s.counters.lastHeartbeatAt, s)),
  );
}

function slotRows(s) {
  const slot = s.slot;
  if (!slot) return [el('p', { class: 'muted' }, 'not polled yet')];
  const status = slot.walStatus || 'unknown';
  const cls = status === 'reserved' ? 'good' : status === 'extended' ? 'warn' : 'bad';
  return [
    row('active', el('span', { class: slot.active ? 'good' : 'bad', 'data-testid': 'slot-active' }, slot.active ? 'yes' : 'no'), slot.activePid ? ' (pid ' + slot.activePid + ')' : ''),
    row('wal_status', el('span', { class: cls, 'data-testid': 'slot-wal-status' }, status)),
    row('retained WAL', figure('retained-wal', slot.retainedWalBytes, fmtBytes(slot.retainedWalBytes))),
    row('safe_wal_size', slot.safeWalSizeBytes === null ? 'unlimited' : fmtBytes(slot.safeWalSizeBytes)),
    row('restart LSN', slot.restartLsn || '–'),
    row('confirmed flush', slot.confirmedFlushLsn || '–'),
    row('polled', fmtAgo(slot.polledAt, s)),
  ];
}

function bar(value, total, testid) {
  const known = typeof total === 'number' && total > 0;
  const fill = el('div', { class: 'fill' });
  fill.style.width = known ? Math.min(100, (100 * value) / total).toFixed(1) + '%' : '100%';
  return el('div', { class: 'bar' + (known ? '' : ' unknown'), 'data-testid': testid, role: 'progressbar', 'aria-valuenow': value, 'aria-valuemax': known ? total : null }, fill);
}

function renderSinks(s) {
  const rows = s.sinks.map((sink) => {
    const id = 'sink-' + sink.name;
    const err = sink.lastError;
    return el(
      'tr',
      { 'data-testid': id },
      el('td', {}, el('span', { class: 'swatch' }, ''), sink.name, el('small', {}, ' ' + sink.type), sink.slowest ? el('span', { class: 'tag', title: 'lowest checkpoint: this sink holds the slot back' }, 'slowest') : null),
      el('td', {}, el('span', { class: 'pill ' + (sink.state === 'ok' ? 'ok' : sink.state === 'starting' ? 'warn' : 'bad'), 'data-testid': id + '-state' }, sink.state)),
      el('td', { class: 'num' }, figure(id + '-rows', sink.rowsPerSecond, fmtRate(sink.rowsPerSecond))),
      el('td', { class: 'num' }, figure(id + '-events', sink.eventsWritten, fmtCount(sink.eventsWritten))),
      el('td', { class: 'mono' }, figure(id + '-checkpoint', null, sink.checkpoint)),
      el('td', { class: 'num' }, figure(id + '-lag', sink.lagBytes, fmtBytes(sink.lagBytes))),
      // An error the sink has recovered from stays visible, quieter.
      el('td', { class: 'error' + (err && sink.state === 'ok' ? ' past' : ''), 'data-testid': id + '-error' }, err ? [el('span', { class: 'pill ' + (sink.state === 'ok' ? 'warn' : 'bad') }, err.kind), ' ', err.message, el('small', {}, ' ' + fmtAgo(err.at, s))] : el('span', { class: 'muted' }, 'none')),
    );
  });
  rows.forEach((tr, i) => tr.querySelector('.swatch').style.background = COLORS[i % COLORS.length]);
  $('sinks').replaceChildren(...rows);
}

function renderSnapshots(s) {
  const list = s.snapshots || [];
  $('snapshots-section').hidden = list.length === 0;
  $('snapshots').replaceChildren(
    ...list.map((snap) => {
      const id = 'snapshot-' + snap.kind + '-' + snap.table;
      const done = snap.state === 'done';
      // Done is full, whatever the estimate said (or an empty table's 0 of 0).
      const total = done ? Math.max(snap.rowsRead, 1) : snap.rowsEstimated;
      const read = done ? total : snap.rowsRead;
      const of = snap.rowsEstimated === null ? '' : ' of ~' + fmtCount(snap.rowsEstimated);
      return el(
        'div',
        { class: 'snapshot', 'data-testid': id },
        el('div', { class: 'kv' }, el('span', { class: 'k' }, snap.table, el('small', {}, ' ' + snap.kind)), el('span', { class: 'v' }, figure(id + '-rows', snap.rowsRead, fmtCount(snap.rowsRead)), of, ' rows · ', el('span', { class: done ? 'good' : 'warn' }, snap.state))),
        bar(read, total, id + '-bar'),
      );
    }),
  );
}

function renderFooter(s) {
  $('config').textContent = [s.config.main, ...s.config.sinks].join(' · ');
  $('started').textContent = new Date(s.startedAt).toLocaleString();
}

// ── chart ─────────────────────────────────────────────────────────────────────

/** A round axis maximum above the value: 1, 2 or 5 times a power of ten, in steps of the base (10 or 1024). */
function niceMax(value, base) {
  if (!(value > 0)) return 1;
  const unit = base === 1024 ? Math.pow(1024, Math.floor(Math.log(value) / Math.log(1024))) : 1;
  const scaled = value / unit;
  const magnitude = Math.pow(10, Math.floor(Math.log10(scaled)));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= scaled);
  return step * magnitude * unit;
}

/** Draws series ({ name, color, points: [[t, v]] }) over [t0, t1] into the <svg>. */
function drawChart(node, series, format, base, t0, t1) {
  const W = 560, H = 170, L = 70, R = 12, T = 10, B = 22;
  // Only what is in the window sets the scale: an old peak must not flatten the present.
  series = series.map((line) => ({ ...line, points: line.points.filter((p) => p[0] >= t0) }));
  const peak = Math.max(0, ...series.flatMap((line) => line.points.map((p) => p[1])));
  const top = niceMax(peak, base);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const parts = [];
  for (const f of [0, 0.5, 1]) {
    parts.push(svg('line', { x1: L, x2: W - R, y1: y(top * f), y2: y(top * f), class: 'grid' }));
    parts.push(svg('text', { x: L - 6, y: y(top * f) + 4, 'text-anchor': 'end' }, format(top * f)));
  }
  const minutes = (t1 - t0) / 60000;
  for (const f of [0, 0.5, 1]) {
    const label = f === 1 ? 'now' : '−' + +(minutes * (1 - f)).toFixed(1) + ' min';
    parts.push(svg('text', { x: x(t0 + f * (t1 - t0)), y: H - 4, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' }, label));
  }
  for (const line of series) {
    const pts = line.points.map((p) => x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1));
    if (pts.length === 0) continue;
    if (series.length === 1 && pts.length > 1) {
      const first = pts[0].split(',')[0], lastX = pts[pts.length - 1].split(',')[0];
      parts.push(svg('polygon', { points: first + ',' + y(0) + ' ' + pts.join(' ') + ' ' + lastX + ',' + y(0), fill: line.color, 'fill-opacity': 0.12 }));
    }
    parts.push(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: line.color, 'stroke-width': 2, 'data-series': line.name }));
  }
  node.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  node.replaceChildren(...parts);
}

/** The server's history, then this page's own samples newer than it. */
function samples(s) {
  const history = s.history || [];
  const newest = history.length ? history[history.length - 1].t : -Infinity;
  return history.concat(local.filter((p) => p.t > newest));
}

function renderCharts(s) {
  const now = serverNow(s);
  const all = samples(s);
  // A young worker's few minutes fill the chart rather than its right edge (one minute at least).
  const span = all.length ? now - all[0].t : 0;
  const t0 = now - Math.min(windowMinutes * 60000, Math.max(60000, span));
  const live = all.concat([{ t: now, lagBytes: s.lag.bytes, lagSeconds: s.lag.seconds }]);
  drawChart($('chart-lag-bytes'), [{ name: 'lag bytes', color: LAG_BYTES_COLOR, points: live.map((p) => [p.t, p.lagBytes]) }], fmtBytes, 1024, t0, now);
  drawChart($('chart-lag-seconds'), [{ name: 'lag seconds', color: LAG_SECONDS_COLOR, points: live.map((p) => [p.t, p.lagSeconds]) }], fmtDuration, 10, t0, now);
  const rates = s.sinks.map((sink, i) => ({
    name: sink.name,
    color: COLORS[i % COLORS.length],
    points: all.filter((p) => p.sinks && sink.name in p.sinks).map((p) => [p.t, p.sinks[sink.name]]),
  }));
  drawChart($('chart-rows'), rates, (v) => fmtRate(v).replace(' rows/s', '/s'), 10, t0, now);
  $('chart-legend').replaceChildren(...rates.map((r) => el('span', {}, el('span', { class: 'swatch', style: 'background:' + r.color }, ''), r.name)));
}

// ── polling ───────────────────────────────────────────────────────────────────

function render(s) {
  renderSources(s);
  renderHeader(s);
  renderCards(s);
  renderSinks(s);
  renderSnapshots(s);
  renderCharts(s);
  renderFooter(s);
}

function showUnreachable(err) {
  failingSince = failingSince || Date.now();
  const state = $('state');
  state.textContent = 'unreachable';
  state.className = 'state bad';
  state.setAttribute('data-ready', 'false');
  $('reasons').replaceChildren(el('li', {}, 'cannot read status for ' + fmtDuration((Date.now() - failingSince) / 1000) + ': ' + err.message));
  document.body.classList.add('stale');
  document.title = '✕ unreachable · slotline';
}

async function poll() {
  try {
    const response = await fetch('status' + STATUS_QUERY, { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) {
      // A source that is not running (503) or not known (404) says why; its links still lead elsewhere.
      const said = await response.json().catch(() => null);
      if (said && said.sources) renderSources(said);
      throw new Error('HTTP ' + response.status + (said ? ': ' + (said.error || (said.readyReasons || []).join('; ')) : ''));
    }
    const s = await response.json();
    local.push({ t: serverNow(s), lagBytes: s.lag.bytes, lagSeconds: s.lag.seconds, sinks: Object.fromEntries(s.sinks.map((k) => [k.name, k.rowsPerSecond])) });
    if (local.length > LOCAL_SAMPLES) local.splice(0, local.length - LOCAL_SAMPLES);
    last = s;
    failingSince = 0;
    document.body.classList.remove('stale');
    render(s);
    $('updated').textContent = new Date().toLocaleTimeString();
  } catch (err) {
    showUnreachable(err);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

for (const button of document.querySelectorAll('[data-minutes]')) {
  button.addEventListener('click', () => {
    windowMinutes = Number(button.getAttribute('data-minutes'));
    for (const b of document.querySelectorAll('[data-minutes]')) b.classList.toggle('on', b === button);
    if (last) renderCharts(last);
  });
}
poll();
`;

/**
 * The status page served at `GET /`: one self-contained document (inline CSS,
 * script and SVG chart; no build step, no CDN) that polls `/status` every 2 s.
 * In a process with several sources it shows the one named by `?source=`,
 * with a link to each of the others.
 */
import { STATUS_PAGE_SCRIPT } from './status-page-script.ts';
import { STATUS_PAGE_CSS } from './status-page-style.ts';

let page: string | undefined;

export function statusPageHtml(): string {
  page ??= build(STATUS_PAGE_CSS, STATUS_PAGE_SCRIPT);
  return page;
}

function build(css: string, script: string): string {
  // Inlined as raw text: a closing tag inside would end the element early.
  if (/<\/style/i.test(css) || /<\/script/i.test(script)) throw new Error('status page: the inlined CSS or script contains a closing tag');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>slotline</title>
<link rel="icon" href="data:,">
<style>
${css}</style>
</head>
<body>
<header>
  <div class="brand">slotline <small id="version"></small></div>
  <div id="state" class="state unknown" data-testid="state" data-ready="false">connecting…</div>
  <div id="pipeline-state" data-testid="pipeline-state"></div>
  <div class="meta">up <span id="uptime" data-testid="uptime"></span> · updated <span id="updated" data-testid="updated">never</span></div>
</header>
<nav id="sources" data-testid="sources" aria-label="sources" hidden></nav>
<ul id="reasons" data-testid="ready-reasons"></ul>
<main>
  <section class="cards">
    <div class="card"><h2>Source</h2><div id="source"></div></div>
    <div class="card"><h2>Lag</h2><div id="lag"></div></div>
    <div class="card"><h2>Slot</h2><div id="slot"></div></div>
    <div class="card"><h2>Flow</h2><div id="in-flight"></div></div>
  </section>
  <section class="card">
    <h2>Last minutes
      <span class="window"><button data-minutes="1">1 min</button><button data-minutes="5" class="on">5 min</button><button data-minutes="10">10 min</button></span>
    </h2>
    <div class="charts">
      <figure><figcaption class="muted">lag (bytes)</figcaption><svg id="chart-lag-bytes" data-testid="chart-lag-bytes" role="img" aria-label="lag in bytes"></svg></figure>
      <figure><figcaption class="muted">lag (seconds)</figcaption><svg id="chart-lag-seconds" data-testid="chart-lag-seconds" role="img" aria-label="lag in seconds"></svg></figure>
      <figure><figcaption class="muted">rows/s per sink <span id="chart-legend"></span></figcaption><svg id="chart-rows" data-testid="chart-rows" role="img" aria-label="rows per second per sink"></svg></figure>
    </div>
  </section>
  <section class="card">
    <h2>Sinks</h2>
    <table>
      <thead><tr><th>sink</th><th>state</th><th class="num">rows/s</th><th class="num">events written</th><th>checkpoint</th><th class="num">lag</th><th>last error</th></tr></thead>
      <tbody id="sinks" data-testid="sinks"></tbody>
    </table>
  </section>
  <section class="card" id="snapshots-section" hidden><h2>Snapshots</h2><div id="snapshots" data-testid="snapshots"></div></section>
</main>
<footer>config <span id="config"></span> · started <span id="started"></span> · <a href="metrics">/metrics</a> · <a href="status">/status</a></footer>
<script>
${script}</script>
</body>
</html>
`;
}

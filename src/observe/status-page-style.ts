/**
 * The status page's styles (status-page.ts inlines them): light, with a dark
 * variant. A string, so that it ships inside the compiled module (dist/).
 */
export const STATUS_PAGE_CSS = String.raw`:root {
  --bg: #f6f8fa; --card: #fff; --fg: #1f2328; --muted: #656d76; --line: #d0d7de;
  --good: #1a7f37; --good-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --fg: #e6edf3; --muted: #8d96a0; --line: #30363d;
    --good: #3fb950; --good-bg: #12261e; --bad: #f85149; --bad-bg: #2d1214; --warn: #d29922; --warn-bg: #272115;
  }
}
* { box-sizing: border-box; }
figure { margin: 0; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-size: 20px; font-weight: 700; }
.brand small, .meta { color: var(--muted); font-weight: 400; font-size: 13px; }
.meta { margin-left: auto; }
.state { font-size: 18px; font-weight: 700; padding: 4px 14px; border-radius: 999px; text-transform: uppercase; letter-spacing: .04em; }
.state.ok { color: #fff; background: var(--good); }
.state.bad { color: #fff; background: var(--bad); }
.state.unknown { background: var(--line); }
#pipeline-state { color: var(--muted); font-weight: 600; }
#sources { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; padding: 8px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
#sources[hidden] { display: none; }
#sources a { color: var(--fg); text-decoration: none; padding: 2px 10px; border-radius: 999px; border: 1px solid var(--line); }
#sources a::before { content: "● "; }
#sources a.ok::before { color: var(--good); }
#sources a.bad::before { color: var(--bad); }
#sources a[aria-current] { font-weight: 700; border-color: var(--fg); }
#reasons { margin: 0; padding: 8px 24px 8px 44px; background: var(--bad-bg); color: var(--bad); font-weight: 600; }
#reasons:empty { display: none; }
main { padding: 16px 24px; display: grid; gap: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
.card h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); display: flex; gap: 8px; align-items: center; }
.kv { display: flex; justify-content: space-between; gap: 12px; padding: 2px 0; }
.kv .k { color: var(--muted); white-space: nowrap; }
.kv .v { text-align: right; overflow-wrap: anywhere; }
.big { display: flex; align-items: baseline; gap: 8px; font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; }
.big small { font-size: 12px; font-weight: 400; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.charts svg { width: 100%; height: auto; display: block; }
.charts text { font-size: 12px; fill: var(--muted); }
.charts .grid { stroke: var(--line); stroke-dasharray: 3 3; }
.window { margin-left: auto; display: flex; gap: 4px; }
.window button { font: inherit; font-size: 12px; border: 1px solid var(--line); background: var(--card); color: var(--fg); border-radius: 6px; padding: 1px 8px; cursor: pointer; }
.window button.on { background: var(--fg); color: var(--card); }
#chart-legend { display: inline-flex; gap: 12px; margin-left: 8px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 8px; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td small { color: var(--muted); }
.mono, .kv .v { font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
td.error { max-width: 420px; overflow-wrap: anywhere; }
td.error.past { color: var(--muted); }
.pill { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.pill.ok { color: var(--good); background: var(--good-bg); }
.pill.bad { color: var(--bad); background: var(--bad-bg); }
.pill.warn { color: var(--warn); background: var(--warn-bg); }
.tag { margin-left: 8px; font-size: 11px; padding: 0 6px; border: 1px solid var(--warn); color: var(--warn); border-radius: 4px; }
.good { color: var(--good); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.muted { color: var(--muted); }
.bar { height: 8px; border-radius: 4px; background: var(--line); overflow: hidden; margin: 4px 0 8px; }
.bar .fill { height: 100%; background: var(--good); transition: width .5s; }
.bar.unknown .fill { background: repeating-linear-gradient(45deg, var(--good) 0 8px, transparent 8px 16px); opacity: .6; }
.snapshot { padding: 4px 0; }
footer { padding: 8px 24px 24px; color: var(--muted); font-size: 12px; }
body.stale main { opacity: .45; }
`;

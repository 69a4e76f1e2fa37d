"""The page around the run report: its one style block, its one script (table sorting) and
a Content-Security-Policy that admits exactly those two."""

from __future__ import annotations

import base64
import hashlib

from listbuilder.outputs.charts import esc

STYLE = """
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --t1: #1e3a8a; --t2: #2563eb;
  --t3: #60a5fa; --t4: #bfdbfe; --lost: #fca5a5; --kept: #475569; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 2px; padding-top: 12px; border-top: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 0 0 8px; }
a { color: var(--t2); }
.meta, .desc, .hint, .more, .legend, .read { color: var(--muted); margin: 2px 0 8px; }
.hint { font-size: 12px; }
.warnings li { color: #991b1b; margin: 2px 0; }
.figures { display: flex; gap: 12px; margin: 16px 0; flex-wrap: wrap; }
.figure { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
  min-width: 170px; }
.figure .big { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.overview, table.accounts, table.changes, table.inputs { width: 100%; }
table.overview th, table.overview td, table.accounts th, table.accounts td,
table.changes th, table.changes td, table.inputs th, table.inputs td {
  border-bottom: 1px solid var(--line); text-align: left; }
table.overview .num, table.accounts .num, table.changes .num, table.inputs .num {
  text-align: right; }
thead th { font-weight: 600; background: #f8fafc; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr));
  gap: 16px 28px; margin-top: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  break-inside: avoid; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
table.bars { width: 100%; }
table.bars th[scope=row] { text-align: left; font-weight: normal; width: 32%; padding-left: 0; }
table.bars td { vertical-align: middle; }
td.barcell { padding: 2px 4px; }
td.note { color: var(--muted); font-size: 12px; white-space: nowrap; width: 1%; }
td.more { color: var(--muted); padding-left: 0; }
svg { display: block; }
svg.bar { overflow: visible; }
.kept { fill: var(--kept); } .lost { fill: var(--lost); } .crit { fill: #0f766e; }
.dq { fill: #b91c1c; } .mix { fill: #6366f1; } .below { fill: #cbd5e1; }
.tier1 { fill: var(--t1); } .tier2 { fill: var(--t2); } .tier3 { fill: var(--t3); }
.tier4 { fill: var(--t4); }
.cap { fill: none; stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 5 3; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px;
  border-radius: 2px; }
.swatch.tier1 { background: var(--t1); } .swatch.tier2 { background: var(--t2); }
.swatch.tier3 { background: var(--t3); } .swatch.tier4 { background: var(--t4); }
.swatch.lost { background: var(--lost); }
.swatch.band { background: #bbf7d0; margin-left: 0; }
.band { fill: #bbf7d0; }
.legend { font-size: 12px; margin-left: -12px; }
.axis { stroke: var(--ink); } .grid line, .grid { stroke-width: 1; }
line.grid { stroke: var(--line); }
.threshold { stroke: var(--ink); stroke-dasharray: 4 3; stroke-width: 1.5; }
.tick, .axislabel { font-size: 11px; fill: var(--muted); }
.thlabel { font-size: 11px; fill: var(--ink); font-weight: 600; }
.check { border-left: 4px solid; padding: 6px 10px; margin: 10px 0; border-radius: 2px; }
.check.ok { border-color: #15803d; background: #f0fdf4; }
.check.warn { border-color: #b45309; background: #fffbeb; }
.check.bad { border-color: #b91c1c; background: #fef2f2; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.badge.ok { background: #dcfce7; color: #14532d; }
.badge.warn { background: #fef3c7; color: #78350f; }
.badge.bad { background: #fee2e2; color: #7f1d1d; }
ul.reasons { margin: 0; padding-left: 16px; }
ul.reasons .n { color: var(--muted); font-variant-numeric: tabular-nums; }
table.accounts td { font-size: 13px; }
th.sorter { cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " ▲"; }
th[aria-sort=descending]::after { content: " ▼"; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 36px; color: var(--muted); }
footer h2 { color: var(--ink); }
@media print {
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  .grid { grid-template-columns: 1fr 1fr; }
  section.segment { break-before: page; }
  a { color: inherit; text-decoration: none; }
  th.sorter::after { content: none; }
}
"""

# Sorting for the accounts table. Without script the table reads in rank order.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  var body = table.tBodies[0];
  Array.prototype.forEach.call(heads, function (th, col) {
    th.classList.add("sorter");
    th.tabIndex = 0;
    function key(row) {
      var cell = row.cells[col];
      if (th.dataset.type !== "num") return cell.textContent.toLowerCase();
      var v = parseFloat(cell.dataset.sort);
      return isNaN(v) ? -Infinity : v;
    }
    function sort() {
      var up = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = x < y ? -1 : x > y ? 1 : 0;
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
});
"""


def _sha256_source(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def full_page(title: str, body: str) -> str:
    """The whole HTML document: ``body`` inside the page's style, script and policy."""
    # The policy lets through exactly this page's one style block and one script and
    # data: images (the blank favicon, which stops a browser asking for one); a browser
    # blocks anything else, so a name in the data can never make the page load a thing.
    csp = (
        f"default-src 'none'; style-src {_sha256_source(STYLE)}; "
        f"script-src {_sha256_source(SCRIPT)}; img-src data:; base-uri 'none'; "
        "form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main><script>{SCRIPT}</script></body></html>\n"
    )

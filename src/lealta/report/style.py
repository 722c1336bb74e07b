"""The report page's style sheet, inlined into a ``<style>`` element."""

from __future__ import annotations

CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--rule:#e5e7eb;--bg:#f5f6f8;--accent:#3b6fd4}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,
-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1140px;margin:0 auto;padding:32px 24px 40px}
h1{font-size:28px;line-height:1.2;margin:4px 0 20px;overflow-wrap:anywhere}
h2{font-size:19px;margin:0 0 4px}
h3{font-size:14px;margin:0 0 8px;color:var(--muted);font-weight:600}
.kicker{margin:0;color:var(--accent);font-weight:600;font-size:12px;letter-spacing:.08em;text-transform:uppercase}
section{background:#fff;border:1px solid var(--rule);border-radius:10px;padding:20px 24px;
margin:0 0 20px;overflow-x:auto}
.lede{color:var(--muted);margin:0 0 18px;max-width:80ch}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:14px}
th,td{padding:7px 10px;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
thead th{font-size:12px;font-weight:600;color:var(--muted);border-bottom:2px solid var(--rule)}
tbody tr:last-child td,tbody tr:last-child th{border-bottom:none}
.num{text-align:right;white-space:nowrap}.name{overflow-wrap:anywhere;min-width:12ch}
.facts th{width:26%;color:var(--muted);font-weight:500}
.facts td{white-space:pre-line;overflow-wrap:anywhere}
.facts tr.warn th,.facts tr.warn td{color:#92400e;background:#fffbeb}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:16px;
margin:0 0 20px}
.card{background:#fff;border:1px solid var(--rule);border-radius:10px;padding:16px 20px}
.card .value{display:block;font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}
.card .label{color:var(--muted);font-size:13px}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(400px,100%),1fr));gap:28px;margin-bottom:20px}
.dists{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(230px,100%),1fr));gap:20px}
figure{margin:0}figure.wide{margin-top:24px}svg.chart{display:block;max-width:100%;height:auto}
.swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px}
.empty{font-size:16px;margin:0}ul.read{margin:0;padding-left:20px;max-width:85ch}
ul.read li{margin:0 0 6px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:8px}
@media print{body{background:#fff}section,.card{break-inside:avoid}}
"""

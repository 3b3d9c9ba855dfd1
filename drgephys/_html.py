"""HTML pieces of the report: a sortable table (small inline script, no external resources), the page
shell and PNG embedding."""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np
import pandas as pd

#: Page style (inline; the report is one self-contained file).
CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}table{border-collapse:collapse;"
       "font-size:12px}td,th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}"
       ".table{overflow-x:auto;max-height:32em;overflow-y:auto}th{position:sticky;top:0;background:#f4f4f4}"
       "table.sortable th{cursor:pointer;user-select:none}table.sortable th[data-dir=asc]::after{content:' \\25B2'}"
       "table.sortable th[data-dir=desc]::after{content:' \\25BC'}img{max-width:100%}.qc{margin:1.5em 0}"
       ".qc h3{margin:.2em 0;font-size:15px}.why{color:#555;font-size:12px}.flag{color:#b00020;font-weight:bold}"
       "p.path{color:#777;font-size:11px}")

#: Click a header to sort by that column (again to reverse). Numeric cells carry `data-sort`; empty values
#: sort last. Marks each table `data-sortable="ready"` once wired.
SORT_JS = """
(function () {
  function key(td) {
    var raw = td.getAttribute('data-sort');
    if (raw === null) { return {num: false, v: td.textContent.trim()}; }
    return {num: true, v: raw === '' ? NaN : parseFloat(raw)};
  }
  function compare(a, b, asc) {
    if (a.num && b.num) {
      if (isNaN(a.v) || isNaN(b.v)) { return isNaN(a.v) - isNaN(b.v); }
      return asc ? a.v - b.v : b.v - a.v;
    }
    if (a.v === '' || b.v === '') { return (a.v === '') - (b.v === ''); }
    var c = String(a.v).localeCompare(String(b.v), undefined, {numeric: true});
    return asc ? c : -c;
  }
  function sortBy(table, col, th) {
    var asc = th.getAttribute('data-dir') !== 'asc';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('data-dir'); });
    th.setAttribute('data-dir', asc ? 'asc' : 'desc');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) { return compare(key(r1.cells[col]), key(r2.cells[col]), asc); });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.title = 'click to sort';
      th.addEventListener('click', function () { sortBy(table, col, th); });
    });
    table.setAttribute('data-sortable', 'ready');
  });
})();
"""


def png_img(fig, alt: str, *, dpi: int = 80) -> str:
    """An ``<img>`` holding `fig` as an embedded base64 PNG (the figure is not kept open)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    try:  # figures made through pyplot are closed; plain matplotlib.figure.Figure objects need nothing
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - pyplot unavailable
        pass
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"/>'


def _cell(value) -> tuple[str, str | None]:
    """(text shown, numeric sort key or None for text columns) of one table cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "", None
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), None
    if isinstance(value, (int, np.integer)):
        return f"{int(value)}", f"{int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}", repr(float(value))
    return str(value), None


def sortable_table(df: pd.DataFrame, *, links: dict | None = None, link_column: str = "QC figure",
                   cls: str = "recordings") -> str:
    """An HTML table whose header cells sort it (see `SORT_JS`).

    Parameters
    ----------
    df : DataFrame
        Rows to show; numeric columns sort numerically (empty cells last), text columns alphabetically.
    links : dict, optional
        Row position -> (anchor id, text): adds a first column `link_column` linking to ``#anchor``.
    """
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
               for c in df.columns}
    head = ([link_column] if links is not None else []) + [str(c) for c in df.columns]
    out = [f'<table class="sortable {cls}"><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    for pos, row in enumerate(df.itertuples(index=False)):
        cells = []
        if links is not None:
            anchor = links.get(pos)
            cells.append(f'<td><a href="#{html.escape(anchor[0])}">{html.escape(anchor[1])}</a></td>' if anchor
                         else "<td></td>")
        for c, val in zip(df.columns, row):
            text, key = _cell(val)
            if numeric[c]:
                cells.append(f'<td data-sort="{key or ""}">{html.escape(text)}</td>')
            else:
                cells.append(f"<td>{html.escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def page(title: str, body: list) -> str:
    """The whole document: inline style, body parts, inline sort script; no external resources."""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>" + html.escape(title)
            + "</title><style>" + CSS + "</style></head><body>" + "\n".join(body)
            + "<script>" + SORT_JS + "</script></body></html>")

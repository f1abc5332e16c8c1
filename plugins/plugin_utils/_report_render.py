# -*- coding: utf-8 -*-
# Copyright: cowstack.docker_storage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit report for people: Markdown (``fleet.md``) and one self-contained HTML page (``fleet.html``).

Both put what needs attention first (errors, then warnings, then hosts not audited), then the fleet table (hosts
with errors first, then warnings, then drift), then each host's detail. The page loads nothing: its style and
the filter script are inline, and the table is in the HTML itself, so it reads without JavaScript too. Pure."""

from __future__ import annotations

from html import escape

from ansible_collections.cowstack.docker_storage.plugins.module_utils._audit import human_bytes
from ansible_collections.cowstack.docker_storage.plugins.module_utils._retention import human_age

STATUS_ORDER = ("error", "warning", "drift", "ok")
TITLE = "Docker storage audit"


def status(summary):
    summary = summary or {}
    for key, name in (("errors", "error"), ("warnings", "warning"), ("drift", "drift")):
        if summary.get(key):
            return name
    return "ok"


def ordered_hosts(summaries):
    """Hosts with errors first, then warnings, then drift, then the rest; by name within each."""
    return sorted(summaries, key=lambda h: (STATUS_ORDER.index(status(summaries[h])), h))


def _pool_text(summary):
    pool = summary.get("pool") or {}
    if not pool:
        return "-"
    return "%s %s: %s free of %s%s" % (pool.get("kind"), pool.get("name"), human_bytes(pool.get("free_bytes")) or "?",
                                       human_bytes(pool.get("size_bytes")) or "?",
                                       ", %s" % pool["health"] if pool.get("health") else "")


def _snapshot_text(summary):
    snapshots = summary.get("snapshots") or {}
    if not snapshots:
        return "-"
    if snapshots.get("error"):
        return "unknown (%s)" % snapshots["error"]
    parts = []
    for item in snapshots.get("targets") or []:
        age = human_age(item["age_seconds"]) if item.get("age_seconds") is not None else "none"
        parts.append("%s: %s (%s)" % (item.get("target"), age, item.get("state")))
    return "; ".join(parts) or "no targets"


def row(host, summary):
    """One host's cells, in the table's column order (see :data:`COLUMNS`)."""
    summary = summary or {}
    return [host, status(summary), summary.get("current_driver") or "none", summary.get("recommended") or "none",
            human_bytes(summary.get("data_root_free_bytes")) or "?", _pool_text(summary), _snapshot_text(summary),
            str(len(summary.get("warnings") or [])), str(len(summary.get("errors") or []))]


COLUMNS = ("host", "status", "driver now", "recommended", "free under data-root", "pool", "newest snapshot",
           "warnings", "errors")


def attention(fleet, summaries):
    """``[(kind, host, message)]``: every error, then every warning, then the hosts not audited."""
    items = []
    for kind, key in (("error", "errors"), ("warning", "warnings")):
        for host in sorted(summaries):
            items.extend((kind, host, text) for text in (summaries[host] or {}).get(key) or [])
    items.extend(("not audited", host, "no audit result (unreachable, or its facts could not be gathered)")
                 for host in fleet.get("not_audited") or [])
    return items


def _headline(fleet):
    return "%d hosts audited, %d with errors, %d with warnings, %d with drift, %d not audited" % (
        fleet.get("hosts", 0), len(fleet.get("with_errors") or []), len(fleet.get("with_warnings") or []),
        len(fleet.get("with_drift") or []), len(fleet.get("not_audited") or []))


# -- Markdown ---------------------------------------------------------------------------------------------

def _md_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(header, rows):
    lines = ["| %s |" % " | ".join(_md_cell(c) for c in header), "|%s" % ("---|" * len(header))]
    lines += ["| %s |" % " | ".join(_md_cell(c) for c in cells) for cells in rows]
    return lines


def markdown(fleet, summaries):
    run = (fleet.get("run") or {}).get("id", "?")
    out = ["# %s" % TITLE, "", "%s. Run %s, written %s." % (_headline(fleet), run, fleet.get("written", "?")), ""]
    out += ["## Warnings and errors", ""]
    items = attention(fleet, summaries)
    out += _md_table(("kind", "host", "message"), items) if items else ["None."]
    out += ["", "## Fleet", ""]
    out += _md_table(COLUMNS, [row(h, summaries[h]) for h in ordered_hosts(summaries)])
    drivers = fleet.get("drivers_now") or {}
    out += ["", "Drivers now: %s. Recommended: %s." % (
        ", ".join("%s %d" % kv for kv in sorted(drivers.items())) or "none",
        ", ".join("%s %d" % kv for kv in sorted((fleet.get("recommended") or {}).items())) or "none")]
    if fleet.get("stale_removed"):
        out += ["", "## Stale", "", "Host files of an earlier run whose hosts this run did not audit were removed: %s."
                % ", ".join(fleet["stale_removed"])]
    out += ["", "## Hosts"]
    for host in ordered_hosts(summaries):
        summary = summaries[host] or {}
        out += ["", "### %s" % host, "", "Status: %s." % status(summary), ""]
        for key, label in (("errors", "ERROR"), ("warnings", "WARNING")):
            out += ["- **%s** %s" % (label, text.replace("\n", " ")) for text in summary.get(key) or []]
        out += ["", "```"] if summary.get("errors") or summary.get("warnings") else ["```"]
        out += [line.replace("```", "` ` `") for line in summary.get("lines") or []]
        out += ["```"]
    return "\n".join(out) + "\n"


# -- HTML -------------------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}h3{font-size:1.05em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;
vertical-align:top}th{background:#f0f0f0}
tr.error td:nth-child(2),li.error b{color:#b00020}tr.warning td:nth-child(2),li.warning b{color:#9a6700}
tr.drift td:nth-child(2){color:#0550ae}tr.ok td:nth-child(2){color:#1a7f37}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto}#filters{margin:.5em 0}#filters>*{margin-right:1em}
"""

_SCRIPT = """
(function () {
  var text = document.getElementById('filter-text');
  var state = document.getElementById('filter-status');
  var driver = document.getElementById('filter-driver');
  var rows = document.querySelectorAll('#fleet tbody tr');
  var details = document.querySelectorAll('section.host');
  function matches(el) {
    var q = text.value.trim().toLowerCase();
    return (!q || el.getAttribute('data-search').indexOf(q) >= 0) &&
      (!state.value || el.getAttribute('data-status') === state.value) &&
      (!driver.value || el.getAttribute('data-driver') === driver.value);
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (r) { r.hidden = !matches(r); if (!r.hidden) { shown++; } });
    details.forEach(function (d) { d.hidden = !matches(d); });
    document.getElementById('shown').textContent = shown + ' of ' + rows.length + ' hosts shown';
    document.body.setAttribute('data-shown', String(shown));
  }
  // #status=warning&driver=overlay2&q=web presets the filters (a link to a filtered view)
  location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
    var kv = pair.split('='), value = decodeURIComponent(kv[1] || '');
    if (kv[0] === 'q') { text.value = value; }
    if (kv[0] === 'status') { state.value = value; }
    if (kv[0] === 'driver') { driver.value = value; }
  });
  [text, state, driver].forEach(function (el) { el.addEventListener('input', apply); });
  apply();
})();
"""


def _search_text(host, summary):
    summary = summary or {}
    parts = [host] + list(summary.get("warnings") or []) + list(summary.get("errors") or []) + \
        list(summary.get("drift") or [])
    return " ".join(parts).lower()


def _filter_attrs(host, summary):
    return 'data-host="%s" data-status="%s" data-driver="%s" data-search="%s"' % (
        escape(host), status(summary), escape((summary or {}).get("current_driver") or "none"),
        escape(_search_text(host, summary)))


def html(fleet, summaries):
    hosts = ordered_hosts(summaries)
    drivers = sorted(set((summaries[h] or {}).get("current_driver") or "none" for h in hosts))
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">', '<title>%s</title>' % TITLE,
           '<style>%s</style>' % _STYLE, '</head>', '<body>', '<h1>%s</h1>' % TITLE,
           '<p id="headline">%s. Run %s, written %s.</p>' % (
               escape(_headline(fleet)), escape((fleet.get("run") or {}).get("id", "?")),
               escape(fleet.get("written", "?")))]
    out += ['<section id="attention">', '<h2>Warnings and errors</h2>']
    items = attention(fleet, summaries)
    if items:
        out.append('<ul>')
        out += ['<li class="%s" data-host="%s"><b>%s</b> %s: %s</li>' % (
            kind.replace(" ", "-"), escape(host), escape(kind), escape(host), escape(text)) for kind, host, text in items]
        out.append('</ul>')
    else:
        out.append('<p>None.</p>')
    out.append('</section>')
    out += ['<section id="fleet-section">', '<h2>Fleet</h2>', '<div id="filters">',
            '<label>host or message <input id="filter-text" type="search"></label>',
            '<label>status <select id="filter-status"><option value="">all</option>%s</select></label>' % "".join(
                '<option value="%s">%s</option>' % (s, s) for s in STATUS_ORDER),
            '<label>driver now <select id="filter-driver"><option value="">all</option>%s</select></label>' % "".join(
                '<option value="%s">%s</option>' % (escape(d), escape(d)) for d in drivers),
            '<span id="shown">%d of %d hosts shown</span>' % (len(hosts), len(hosts)), '</div>',
            '<table id="fleet">', '<thead><tr>%s</tr></thead>' % "".join("<th>%s</th>" % escape(c) for c in COLUMNS),
            '<tbody>']
    for index, host in enumerate(hosts):
        cells = row(host, summaries[host])
        cells_html = ['<td><a href="#host-%d">%s</a></td>' % (index, escape(cells[0]))]
        cells_html += ["<td>%s</td>" % escape(c) for c in cells[1:]]
        out.append('<tr class="%s" %s>%s</tr>' % (status(summaries[host]), _filter_attrs(host, summaries[host]),
                                                  "".join(cells_html)))
    out += ['</tbody>', '</table>', '</section>']
    if fleet.get("not_audited"):
        out += ['<section id="not-audited"><h2>Not audited</h2><ul>%s</ul></section>' % "".join(
            '<li>%s</li>' % escape(h) for h in fleet["not_audited"])]
    if fleet.get("stale_removed"):
        out += ['<section id="stale"><h2>Stale</h2><p>Host files of an earlier run whose hosts this run did not '
                'audit were removed: %s.</p></section>' % escape(", ".join(fleet["stale_removed"]))]
    out += ['<section id="hosts">', '<h2>Hosts</h2>']
    for index, host in enumerate(hosts):
        summary = summaries[host] or {}
        out.append('<section class="host" id="host-%d" %s>' % (index, _filter_attrs(host, summary)))
        out.append('<h3>%s <small>(%s)</small></h3>' % (escape(host), status(summary)))
        for key, label in (("errors", "error"), ("warnings", "warning")):
            if summary.get(key):
                out.append('<ul>%s</ul>' % "".join('<li class="%s"><b>%s</b> %s</li>' % (label, label, escape(t))
                                                   for t in summary[key]))
        out.append('<pre>%s</pre>' % escape("\n".join(summary.get("lines") or [])))
        out.append('</section>')
    out += ['</section>', '<script>%s</script>' % _SCRIPT, '</body>', '</html>']
    return "\n".join(out) + "\n"


# -- fleet.prom: the audit for node_exporter's textfile collector (on the controller, or wherever it is copied) ---

PROM_METRICS = (
    ("cowstack_audit_drift", "Drifts the docker_storage role would fix on the host (storage_audit).",
     lambda s: len(s.get("drift") or [])),
    ("cowstack_audit_errors", "Reasons the role cannot be applied on the host as it stands.",
     lambda s: len(s.get("errors") or [])),
    ("cowstack_audit_warnings", "Warnings of the host's audit.", lambda s: len(s.get("warnings") or [])),
    ("cowstack_audit_data_root_free_bytes", "Free space under the host's Docker data-root.",
     lambda s: s.get("data_root_free_bytes")),
    ("cowstack_audit_pool_free_bytes", "Free space in the pool under the data-root (ZFS pool, btrfs filesystem).",
     lambda s: (s.get("pool") or {}).get("free_bytes")),
)


def _prom_label(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus(fleet, summaries, written_epoch):
    """The audit as Prometheus' text format: one gauge per figure, a sample per host (a figure not known is left
    out, never guessed), and when the report was written."""
    out = []
    for name, text, value_of in PROM_METRICS:
        samples = []
        for host in sorted(summaries):
            value = value_of(summaries[host] or {})
            if value is not None:
                samples.append('%s{host="%s"} %d' % (name, _prom_label(host), int(value)))
        if samples:
            out += ["# HELP %s %s" % (name, text), "# TYPE %s gauge" % name] + samples
    out += ["# HELP cowstack_audit_hosts Hosts in the audit report.", "# TYPE cowstack_audit_hosts gauge",
            "cowstack_audit_hosts %d" % fleet.get("hosts", len(summaries)),
            "# HELP cowstack_audit_timestamp_seconds When the audit report was written (epoch).",
            "# TYPE cowstack_audit_timestamp_seconds gauge", "cowstack_audit_timestamp_seconds %d" % written_epoch]
    return "\n".join(out) + "\n"

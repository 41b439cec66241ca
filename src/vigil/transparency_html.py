"""The transparency report as one self-contained HTML page (see
``vigil.transparency_report.render_html``): inline CSS, inline SVG charts from
``vigil.charts``, no script, no request to anywhere; every piece of data is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

from vigil.charts import bar_chart, line_chart, stacked_bar_chart
from vigil.transparency_report import ALL, NOTICE_SOURCES, TransparencyReport

#: ``kind.action`` → what it is called in the report.
MEASURES = {
    "item.label": "content labelled", "item.restrict": "visibility restricted",
    "item.remove": "content removed", "account.warn": "account warned",
    "account.restrict": "account restricted", "account.suspend": "account suspended",
    "account.shut_down": "account terminated", "item.allow": "no violation found",
    "item.review": "sent to a reviewer",
}
#: Own-initiative decisions that restrict nothing (no statement of reasons).
NOT_RESTRICTIONS = ("item.review", "item.allow", "account.warn")
SOURCES = {"user_report": "user reports", "trusted_flagger": "trusted flaggers",
           "own_initiative": "own initiative"}
DECIDED = {"automated": "fully automated", "partly": "partly automated",
           "human": "not automated"}
SANCTIONS = {"warn": "warning", "restrict": "restriction", "suspend": "suspension",
             "shut_down": "termination"}
#: The overview's totals: (section, metric prefix) summed.
HEADLINES = {"notices received": ("notices", "received."),
             "actions on notices": ("notices", ""),
             "own-initiative restrictions": ("own_initiative", "detection."),
             "appeals received": ("complaints", "received."),
             "account sanctions": ("suspensions", "kind.")}
MEDIANS = {"decision": "case opened → reviewer's decision",
           "decision_on_review": "review case (flagged by the detectors) → decision",
           "action_on_notice": "notice → action",
           "appeal_resolution": "appeal → resolution"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
 color:#1a1a1a;max-width:980px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:2px solid #0072B2;
 padding-bottom:.2rem}h3{font-size:1rem;margin:1.4rem 0 .4rem}
.meta,.how{color:#444}.how{font-size:.92rem;background:#f5f7fa;padding:.5rem .8rem;
 border-left:3px solid #0072B2}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f0f0}
caption{text-align:left;font-weight:600;padding:.2rem 0}
figure{margin:1rem 0}svg.vigil-chart{max-width:100%;height:auto}
nav ol{columns:2}.empty{color:#777;font-style:italic}
@media print{h2{break-before:page}figure,table{break-inside:avoid}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(v: float) -> str:
    return f"{int(v):,}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f} %"


def _hours(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.1f} h" if v < 72 else f"{v:,.1f} h ({v / 24:,.1f} days)"


def _cat(c: str) -> str:
    return c or "unspecified"


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return f'<p class="empty">{_e(caption)}: none.</p>'
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>"
           + "".join(f'<th scope="col">{_e(h)}</th>' for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + f'<th scope="row">{_e(row[0])}</th>'
                   + "".join(f"<td>{_e(c)}</td>" for c in row[1:]) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _figure(svg: str) -> str:
    return f"<figure>{svg}</figure>"


def _how(text: str) -> str:
    return f'<p class="how">{_e(text)}</p>'


class _Page:
    """The sections, each drawn from the report's figures."""

    def __init__(self, rep: TransparencyReport) -> None:
        self.rep = rep
        self.charts: list[str] = []

    def chart(self, svg: str) -> str:
        self.charts.append(svg)
        return _figure(svg)

    # -- the sections --------------------------------------------------------------------

    def headline(self, name: str, platform: str | None = None,
                 period: str | None = None) -> int:
        """One of the overview's totals (:data:`HEADLINES`)."""
        r, k = self.rep, {"platform": platform, "period": period}
        if name == "actions on notices":
            return sum(r.total("notices", prefix=f"{s}.", **k) for s in NOTICE_SOURCES)
        section, prefix = HEADLINES[name]
        return r.total(section, prefix=prefix, **k)

    def overview(self) -> str:
        r = self.rep
        rows = [[p, *(_n(self.headline(h, platform=p)) for h in HEADLINES)]
                for p in r.platforms]
        if len(r.platforms) > 1:
            rows.append(["all platforms", *(_n(self.headline(h)) for h in HEADLINES)])
        series = {h: [(p, float(self.headline(h, period=p))) for p in r.periods]
                  for h in HEADLINES if h != "actions on notices"}
        return "\n".join([
            '<h2 id="overview">Overview</h2>',
            _table("By platform", ["platform", *HEADLINES], rows),
            self.chart(line_chart(series, title=f"Per {r.period}", y_label="count")),
        ])

    def notices(self) -> str:
        r = self.rep
        cats = r.values("notices", "category", prefix="received.")
        received = {SOURCES[s]: [float(r.total("notices", f"received.{s}", category=c))
                                 for c in cats] for s in NOTICE_SOURCES}
        actions = sorted({f.metric.split(".", 1)[1] for f in r.figures
                          if f.section == "notices" and not f.metric.startswith("received.")},
                         key=_measure_order)
        acted = {SOURCES[s]: [float(r.total("notices", f"{s}.{a}")) for a in actions]
                 for s in NOTICE_SOURCES}
        rows = [[_cat(c), *(_n(received[SOURCES[s]][i]) for s in NOTICE_SOURCES),
                 _n(sum(v[i] for v in received.values()))] for i, c in enumerate(cats)]
        arows = [[MEASURES.get(a, a), *(_n(acted[SOURCES[s]][i]) for s in NOTICE_SOURCES),
                  _n(sum(v[i] for v in acted.values()))] for i, a in enumerate(actions)]
        return "\n".join([
            '<h2 id="notices">1. Notices received</h2>',
            _how("Notices are report cases opened in the range, by the category the reporter "
                 "named (unspecified where none) and by who sent them. Actions are the "
                 "decisions taken on report cases in the range (and the account sanctions "
                 "they led to), by the decision's category. A report on an item that already "
                 "has an open case joins that case and is not counted again."),
            self.chart(stacked_bar_chart([_cat(c) for c in cats], received,
                                         title="Notices received by category")),
            _table("Notices received", ["category", *SOURCES_OF_NOTICES, "total"], rows),
            self.chart(stacked_bar_chart([MEASURES.get(a, a) for a in actions], acted,
                                         title="Actions taken on notices")),
            _table("Actions taken on notices", ["action", *SOURCES_OF_NOTICES, "total"],
                   arows),
            f"<p>Median time from notice to action: "
            f"<strong>{_e(_hours(r.stat('median_times', 'median_hours.action_on_notice')))}"
            f"</strong>.</p>",
        ])

    def own_initiative(self) -> str:
        r = self.rep
        cats = r.values("own_initiative", "category")
        kinds = sorted({f.metric for f in r.figures if f.section == "own_initiative"
                        and f.metric in MEASURES and f.metric not in NOT_RESTRICTIONS},
                       key=_measure_order)
        measures = {MEASURES[k]: [float(r.total("own_initiative", k, category=c))
                                  for c in cats] for k in kinds}
        detection = {f"detected {d}": [float(r.total("own_initiative", f"detection.{d}",
                                                     category=c)) for c in cats]
                     for d in ("automated", "human")}
        rows = [[_cat(c), *(_n(measures[MEASURES[k]][i]) for k in kinds),
                 *(_n(v[i]) for v in detection.values())] for i, c in enumerate(cats)
                if any(v[i] for v in measures.values())]
        other = [[MEASURES[k], _n(r.total("own_initiative", k))] for k in NOT_RESTRICTIONS]
        return "\n".join([
            '<h2 id="own_initiative">2. Own-initiative moderation</h2>',
            _how("Decisions Vigil took without a notice: the detectors' automated decisions, "
                 "the account ladder after them, coordinated-posting sanctions, and "
                 "reviewers' decisions on cases the detectors sent to review. Restrictions "
                 "are the decisions that become statements of reasons; detection is "
                 "automated where the detectors found it, human otherwise."),
            self.chart(stacked_bar_chart([_cat(c) for c in cats], measures,
                                         title="Restrictions by category and type")),
            self.chart(stacked_bar_chart([_cat(c) for c in cats], detection,
                                         title="Restrictions by detection method")),
            _table("Restrictions by category",
                   ["category", *(MEASURES[k] for k in kinds), *detection], rows),
            _table("Other decisions (no restriction)", ["decision", "count"], other),
        ])

    def automated(self) -> str:
        r = self.rep
        per = {DECIDED[d]: [(p, float(r.total("automated", f"decided.{d}", period=p)))
                            for p in r.periods] for d in DECIDED}
        cats = [c for c in r.values("automated", "category")
                if r.stat("automated", "share.overturned", ALL, c) is not None]
        rows = []
        for p in [*r.platforms, ALL]:
            k = {} if p == ALL else {"platform": p}
            looked = sum(r.total("automated", v, **k) for v in
                         ("upheld_on_appeal", "overturned_on_appeal", "confirmed_by_reviewer",
                          "overturned_by_reviewer"))
            over = (r.total("automated", "overturned_on_appeal", **k)
                    + r.total("automated", "overturned_by_reviewer", **k))
            rows.append(["all platforms" if p == ALL else p,
                         _n(r.total("automated", prefix="decided.", **k)),
                         *(_pct(r.stat("automated", f"share.decided_{d}", p)) for d in DECIDED),
                         _n(looked), _n(over), _pct(r.stat("automated", "share.overturned", p))])
        return "\n".join([
            '<h2 id="automated">3. Use of automated means</h2>',
            _how("Every restriction, by who decided: fully automated (the detectors and the "
                 "policy, the ladder after them), partly (a reviewer on a detector's flag; "
                 "the ladder after a reviewer) or not automated (a reviewer on a notice). "
                 "Accuracy: of the fully automated restrictions in the range, those a person "
                 "looked at before its end: an appeal's outcome, else the first reviewer "
                 "decision on the item after it (a weaker action overturns it)."),
            self.chart(stacked_bar_chart(list(r.periods),
                                         {k: [v for _, v in pts] for k, pts in per.items()},
                                         title=f"Restrictions per {r.period}, by automation")),
            self.chart(bar_chart([(_cat(c), 100 * (r.stat("automated", "share.overturned",
                                                          ALL, c) or 0.0)) for c in cats],
                                 title="Automated restrictions overturned where a person "
                                       "looked", y_label="% overturned")),
            _table("Automation and accuracy",
                   ["platform", "restrictions", *DECIDED.values(), "looked at by a person",
                    "overturned", "share overturned"], rows),
        ])

    def complaints(self) -> str:
        r = self.rep
        outcomes = {o: [float(r.total("complaints", prefix=f"{o}.", period=p))
                        for p in r.periods] for o in ("upheld", "overturned")}
        rows = [[f"{kind} decisions",
                 *(_n(r.total("complaints", f"{m}.{kind}"))
                   for m in ("received", "upheld", "overturned", "pending"))]
                for kind in ("item", "account")]
        return "\n".join([
            '<h2 id="complaints">4. Complaints (appeals)</h2>',
            _how("Appeals received in the range, by the kind of decision appealed; "
                 "outcomes of the appeals resolved in the range (upheld: the decision "
                 "stands; overturned: it was reversed); pending: received in the range and "
                 "not resolved by its end."),
            self.chart(stacked_bar_chart(list(r.periods), outcomes,
                                         title=f"Appeals resolved per {r.period}")),
            _table("Appeals", ["appeals of", "received", "upheld", "overturned", "pending"],
                   rows),
            f"<p>Overturned: <strong>{_e(_pct(r.stat('complaints', 'share.overturned')))}"
            f"</strong> of those resolved. Median time to resolve: <strong>"
            f"{_e(_hours(r.stat('median_times', 'median_hours.appeal_resolution')))}"
            f"</strong>.</p>",
        ])

    def suspensions(self) -> str:
        r = self.rep
        kinds = [k for k in SANCTIONS if r.total("suspensions", f"kind.{k}")]
        durations = {d: [float(r.total("suspensions", f"duration.{k}.{d}")) for k in kinds]
                     for d in ("timed", "permanent")}
        durations["warning"] = [float(r.total("suspensions", "kind.warn") if k == "warn"
                                      else 0) for k in kinds]
        steps = r.values("suspensions", "metric", prefix="step.")
        steps.sort(key=lambda s: int(s.split(".")[1]))
        by_step = [("coordinated posting" if s == "step.0" else f"ladder step {s[5:]}",
                    float(r.total("suspensions", s))) for s in steps]
        rows = [[SANCTIONS[k], _n(r.total("suspensions", f"kind.{k}")),
                 *(_n(durations[d][i]) for d in ("timed", "permanent"))]
                for i, k in enumerate(kinds)]
        return "\n".join([
            '<h2 id="suspensions">5. Suspensions and other account sanctions</h2>',
            _how("Account sanctions issued in the range, by kind, by the ladder step that "
                 "gave them (or a coordinated-posting group sanction), timed (they expire by "
                 "themselves) or permanent; lifted: later lifted on appeal."),
            self.chart(stacked_bar_chart([SANCTIONS[k] for k in kinds], durations,
                                         title="Account sanctions by kind and duration")),
            self.chart(bar_chart(by_step, title="Account sanctions by ladder step",
                                 y_label="sanctions")),
            _table("Account sanctions", ["sanction", "issued", "timed", "permanent"], rows),
            f"<p>Lifted on appeal: <strong>{_n(r.total('suspensions', 'lifted'))}</strong>."
            f"</p>",
        ])

    def median_times(self) -> str:
        r = self.rep
        series = {label: [(p, v) for p in r.periods
                          if (v := r.stat("median_times", f"median_hours.{m}", period=p))
                          is not None] for m, label in MEDIANS.items()}
        plats = [*r.platforms, ALL]
        rows = [[label, *(_hours(r.stat("median_times", f"median_hours.{m}", p))
                          for p in plats)] for m, label in MEDIANS.items()]
        return "\n".join([
            '<h2 id="median_times">6. Median times</h2>',
            _how("Medians over the cases closed in the range, from the case's opening to "
                 "its closing decision; appeals from their filing to their resolution."),
            self.chart(line_chart(series, title=f"Median hours per {r.period}",
                                  y_label="hours")),
            _table("Median times", ["from → to", *(("all platforms" if p == ALL else p)
                                                   for p in plats)], rows),
        ])


SOURCES_OF_NOTICES = [SOURCES[s] for s in NOTICE_SOURCES]
_ORDER = list(MEASURES)


def _measure_order(metric: str) -> tuple[int, str]:
    return (_ORDER.index(metric) if metric in _ORDER else len(_ORDER), metric)


def page(rep: TransparencyReport) -> str:
    """The whole page."""
    p = _Page(rep)
    body = [p.overview(), p.notices(), p.own_initiative(), p.automated(), p.complaints(),
            p.suspensions(), p.median_times()]
    span = (f"{rep.since:%Y-%m-%d}" if rep.since else "the first record",
            f"{rep.until:%Y-%m-%d}" if rep.until else "the last record")
    plats = ", ".join(rep.platforms) or "none"
    toc = "".join(f'<li><a href="#{s}">{_e(t)}</a></li>' for s, t in (
        ("overview", "Overview"), ("notices", "Notices received"),
        ("own_initiative", "Own-initiative moderation"),
        ("automated", "Use of automated means"), ("complaints", "Complaints (appeals)"),
        ("suspensions", "Suspensions"), ("median_times", "Median times")))
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Transparency report: {_e(plats)}</title>", f"<style>{CSS}</style>",
        "</head>", "<body>", "<header><h1>Transparency report</h1>",
        f'<p class="meta">Platforms: <strong>{_e(plats)}</strong>. From {_e(span[0])} '
        f"(inclusive) to {_e(span[1])} (exclusive), per {_e(rep.period)}. Generated "
        f"{_e(rep.generated_at.strftime('%Y-%m-%d %H:%M UTC'))} by Vigil. Sections after "
        "the EU DSA harmonised transparency-reporting template (Implementing Regulation "
        "(EU) 2024/2835).</p></header>",
        f"<nav><ol>{toc}</ol></nav>", "<main>", *body, "</main>",
        '<footer><p class="meta">Counts are per decision, case or sanction as recorded; '
        "how each figure is computed: Vigil's docs/dsa.md, “The transparency "
        "report”.</p></footer>", "</body>", "</html>", ""])


def chart_count(rep: TransparencyReport) -> int:
    """How many charts :func:`page` draws for ``rep``."""
    p = _Page(rep)
    for section in (p.overview, p.notices, p.own_initiative, p.automated, p.complaints,
                    p.suspensions, p.median_times):
        section()
    return len(p.charts)

using System.Globalization;
using System.Net;
using System.Text;

namespace Rag.Eval;

/// <summary>
/// A self-contained HTML page: inline CSS and script, charts drawn here as inline SVG (so they show with
/// scripts off), no external URL of any kind. Charts: recall@k and answer recall@k against k (log axis),
/// and a latency histogram per stage. Then every question with its retrieved passages.
/// </summary>
public static class HtmlReport
{
    const int PassageChars = 600;

    public static string Render(EvalRunResult r)
    {
        var sb = new StringBuilder(64 * 1024 + r.Questions.Count * 2048);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
          .Append("<title>Eval ").Append(E(r.RunId)).Append("</title><style>").Append(Css).Append("</style></head><body>\n");
        sb.Append("<h1>Eval run <code>").Append(E(r.RunId)).Append("</code></h1>\n<p class=\"meta\">")
          .Append(E($"{r.DatasetName} · {r.Questions.Count} of {r.QuestionCount} questions · {r.CorpusSize} documents · mode {r.Mode}"
            + (r.Generate ? " · generated answers" : "") + $" · {r.Status} · {r.StartedAt.ToString("u", CultureInfo.InvariantCulture)}"))
          .Append("</p>\n");
        if (r.ModeNotice is not null) sb.Append("<p class=\"notice\">").Append(E(r.ModeNotice)).Append("</p>\n");

        sb.Append("<h2>Summary</h2>\n<table class=\"summary\"><thead><tr><th>Metric</th><th>Value</th><th>Questions</th></tr></thead><tbody>\n");
        foreach (var m in r.Metrics)
            sb.Append("<tr><td>").Append(E(m.Name)).Append("</td><td class=\"num\">").Append(E(EvalText.Format(m) + (m.Unit is "" or "count" ? "" : " " + m.Unit)))
              .Append("</td><td class=\"num\">").Append(m.Count.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
        sb.Append("</tbody></table>\n");

        sb.Append("<h2>Charts</h2>\n<div class=\"charts\">\n");
        sb.Append(EvalCharts.RecallCurve(r.Questions, r.Ks));
        foreach (var (stage, values) in LatencySeries(r))
            sb.Append(EvalCharts.Histogram($"chart-latency-{stage.ToLowerInvariant()}", $"{stage} latency (ms)", values));
        sb.Append("</div>\n");

        if (r.Warnings.Count > 0)
        {
            sb.Append("<h2>Dataset warnings (").Append(r.Warnings.Count).Append(")</h2>\n<ul class=\"warnings\">\n");
            foreach (var w in r.Warnings.Take(200)) sb.Append("<li>").Append(E(w.ToString())).Append("</li>\n");
            sb.Append("</ul>\n");
        }

        sb.Append("<h2>Questions</h2>\n<p><input id=\"filter\" type=\"search\" placeholder=\"Filter questions\"> ")
          .Append("<label><input id=\"misses\" type=\"checkbox\"> only questions whose gold document was not retrieved</label> ")
          .Append("<span id=\"shown\"></span></p>\n");
        sb.Append("<table id=\"questions\"><thead><tr><th>#</th><th>Question</th><th>Answers</th><th>Gold rank</th><th>Answer rank</th>");
        if (r.Generate) sb.Append("<th>Generated</th><th>EM</th><th>F1</th>");
        sb.Append("<th>ms</th><th>Retrieved</th></tr></thead><tbody>\n");
        var n = 0;
        foreach (var q in r.Questions)
        {
            var miss = q.HasGold && q.FirstGoldRank is null;
            sb.Append("<tr").Append(miss ? " class=\"miss\"" : "").Append("><td>").Append(++n).Append("</td><td>").Append(E(q.Question))
              .Append("<div class=\"id\">").Append(E(q.QuestionId)).Append("</div>");
            if (q.Error is not null) sb.Append("<div class=\"error\">").Append(E(q.Error)).Append("</div>");
            sb.Append("</td><td>").Append(E(string.Join(" | ", q.Answers))).Append("</td><td class=\"num\">").Append(Rank(q.FirstGoldRank, q.HasGold))
              .Append("</td><td class=\"num\">").Append(Rank(q.FirstAnswerRank, q.HasAnswers)).Append("</td>");
            if (r.Generate)
                sb.Append("<td>").Append(E(q.GeneratedAnswer ?? "")).Append("</td><td class=\"num\">").Append(Num(q.ExactMatch, "0"))
                  .Append("</td><td class=\"num\">").Append(Num(q.F1, "0.00")).Append("</td>");
            sb.Append("<td class=\"num\">").Append(q.EndToEndMs.ToString("0.0", CultureInfo.InvariantCulture)).Append("</td><td>");
            AppendPassages(sb, q);
            sb.Append("</td></tr>\n");
        }
        sb.Append("</tbody></table>\n<script>").Append(Script).Append("</script>\n</body></html>\n");
        return sb.ToString();
    }

    static void AppendPassages(StringBuilder sb, QuestionResult q)
    {
        if (q.Retrieved.Count == 0) { sb.Append("<em>nothing retrieved</em>"); return; }
        var gold = q.GoldDocumentIds.ToHashSet(StringComparer.Ordinal);
        var rest = q.MoreDocumentIds ?? [];
        sb.Append("<details><summary>").Append(q.Retrieved.Count + rest.Count).Append(" passages</summary><ol>");
        foreach (var p in q.Retrieved)
        {
            sb.Append("<li").Append(gold.Contains(p.DocumentId) ? " class=\"gold\"" : "").Append("><b>").Append(E(p.Title ?? p.DocumentId))
              .Append("</b> <span class=\"id\">").Append(E(p.DocumentId)).Append(" · ").Append(p.Score.ToString("0.000", CultureInfo.InvariantCulture))
              .Append("</span>");
            if (p.Text is not null) sb.Append("<br>").Append(E(p.Text.Length > PassageChars ? p.Text[..PassageChars] + "…" : p.Text));
            sb.Append("</li>");
        }
        if (rest.Count > 0)
            sb.Append("</ol><div class=\"id\">then: ").Append(E(string.Join(", ", rest.Take(30)))).Append(rest.Count > 30 ? " …" : "").Append("</div>");
        else sb.Append("</ol>");
        sb.Append("</details>");
    }

    static IEnumerable<(string Stage, IReadOnlyList<double> Values)> LatencySeries(EvalRunResult r)
    {
        var ok = r.Questions.Where(q => q.Error is null).ToList();
        yield return ("Retrieval", ok.Select(q => q.RetrievalMs).ToList());
        if (r.Generate)
        {
            yield return ("Generation", ok.Where(q => q.GenerationMs is not null).Select(q => q.GenerationMs!.Value).ToList());
            yield return ("EndToEnd", ok.Select(q => q.EndToEndMs).ToList());
        }
    }

    static string Rank(int? rank, bool applies) => !applies ? "" : rank is { } x ? x.ToString(CultureInfo.InvariantCulture) : "–";

    static string Num(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "";

    static string E(string s) => WebUtility.HtmlEncode(s);

    const string Css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24;max-width:1400px}
        h1{font-size:22px}h2{font-size:18px;margin-top:28px}code{font-size:90%}
        .meta{color:#57606a}.notice{background:#fff8c5;padding:6px 10px;border-radius:4px}
        table{border-collapse:collapse}th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f6f8fa;position:sticky;top:0}.num{text-align:right;font-variant-numeric:tabular-nums}
        .charts{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #d0d7de;border-radius:6px;background:#fff}
        .chart text{font:11px system-ui,sans-serif;fill:#57606a}.chart .title{font-size:13px;fill:#1b1f24}
        .chart .grid{stroke:#eaeef2}.chart .axis{stroke:#8c959f}.chart .recall{stroke:#0969da}.chart .answer{stroke:#1a7f37}
        .chart .bar{fill:#0969da;opacity:.8}
        tr.miss td:first-child{border-left:3px solid #cf222e}li.gold{background:#dafbe1}
        .id{color:#6e7781;font-size:12px}.error{color:#cf222e}details ol{margin:4px 0;padding-left:20px;max-width:640px}
        #filter{width:320px;padding:4px}
        """;

    const string Script = """
        (function () {
          var rows = Array.prototype.slice.call(document.querySelectorAll('#questions tbody tr'));
          var filter = document.getElementById('filter');
          var misses = document.getElementById('misses');
          var shown = document.getElementById('shown');
          function apply() {
            var text = filter.value.toLowerCase();
            var count = 0;
            rows.forEach(function (row) {
              var visible = (!misses.checked || row.classList.contains('miss')) &&
                            (text === '' || row.textContent.toLowerCase().indexOf(text) >= 0);
              row.style.display = visible ? '' : 'none';
              if (visible) count++;
            });
            shown.textContent = count + ' of ' + rows.length + ' shown';
          }
          filter.addEventListener('input', apply);
          misses.addEventListener('change', apply);
          apply();
        })();
        """;
}

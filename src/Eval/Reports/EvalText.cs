using System.Globalization;
using System.Text;

namespace Rag.Eval;

/// <summary>Plain-text and Markdown renderings of a run.</summary>
public static class EvalText
{
    /// <summary>Scores with three decimals, latencies and rates with one, counts whole: "Recall@20 0.962", "RetrievalP50ms 3.1".</summary>
    public static string Format(MetricValue m) => Format(m.Value, m.Unit);

    public static string Format(double value, string unit) => value.ToString(unit switch
    {
        "" => "0.000",
        "count" => "0",
        _ => "0.0",
    }, CultureInfo.InvariantCulture);

    /// <summary>One "Metric value" pair per line, for scripts (grep, awk) and CI logs.</summary>
    public static string Summary(EvalRunResult result)
    {
        var sb = new StringBuilder();
        foreach (var m in result.Metrics) sb.Append(m.Name).Append(' ').Append(Format(m)).Append('\n');
        return sb.ToString();
    }

    public static string Markdown(EvalRunResult r)
    {
        var sb = new StringBuilder();
        sb.Append("# Eval run ").Append(r.RunId).Append("\n\n");
        sb.Append("| | |\n| --- | --- |\n");
        Row(sb, "Dataset", $"{r.DatasetName} ({r.DatasetHash[..12]})");
        Row(sb, "Status", r.Status.ToString());
        Row(sb, "Questions", $"{r.Questions.Count} of {r.QuestionCount}" + (r.SkippedUnanswerable > 0 ? $" ({r.SkippedUnanswerable} unanswerable skipped)" : ""));
        Row(sb, "Corpus", $"{r.CorpusSize} documents");
        Row(sb, "Mode", r.Mode + (r.ModeNotice is null ? "" : $" ({r.ModeNotice})"));
        Row(sb, "k", string.Join(", ", r.Ks));
        Row(sb, "Generate", r.Generate ? "yes" : "no");
        Row(sb, "Started", r.StartedAt.ToString("u", CultureInfo.InvariantCulture));
        if (r.Warnings.Count > 0) Row(sb, "Dataset warnings", r.Warnings.Count.ToString(CultureInfo.InvariantCulture));
        sb.Append("\n| Metric | Value | Questions |\n| --- | ---: | ---: |\n");
        foreach (var m in r.Metrics)
            sb.Append("| ").Append(m.Name).Append(" | ").Append(Format(m)).Append(m.Unit is "" or "count" ? "" : " " + m.Unit)
              .Append(" | ").Append(m.Count.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        if (r.Warnings.Count > 0)
        {
            sb.Append("\n## Dataset warnings\n\n");
            foreach (var w in r.Warnings.Take(50)) sb.Append("- ").Append(Escape(w.ToString())).Append('\n');
            if (r.Warnings.Count > 50) sb.Append("- ... and ").Append(r.Warnings.Count - 50).Append(" more (see report.json)\n");
        }
        return sb.ToString();
    }

    public static string Markdown(EvalComparison c)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(c.RunA).Append(" -> ").Append(c.RunB).Append("\n\n");
        foreach (var n in c.Notes) sb.Append("> ").Append(n).Append("\n\n");
        sb.Append("| Metric | A | B | Delta | |\n| --- | ---: | ---: | ---: | --- |\n");
        foreach (var d in c.Deltas)
            sb.Append("| ").Append(d.Name).Append(" | ").Append(Opt(d.A, d.Unit)).Append(" | ").Append(Opt(d.B, d.Unit))
              .Append(" | ").Append(SignedDelta(d)).Append(" | ").Append(d.Regression ? "REGRESSION" : "").Append(" |\n");
        return sb.ToString();
    }

    /// <summary>"+0.012", "-3.1 (+12%)"; empty when one side is missing.</summary>
    public static string SignedDelta(MetricDelta d)
    {
        if (d.Delta is not { } delta) return "";
        var s = (delta >= 0 ? "+" : "") + Format(delta, d.Unit);
        return d.Unit is not ("" or "count") && d.RelativeDelta is { } r ? s + $" ({(r >= 0 ? "+" : "")}{(r * 100).ToString("0", CultureInfo.InvariantCulture)}%)" : s;
    }

    static string Opt(double? v, string unit) => v is { } x ? Format(x, unit) : "-";

    static void Row(StringBuilder sb, string key, string value) => sb.Append("| ").Append(key).Append(" | ").Append(Escape(value)).Append(" |\n");

    static string Escape(string s) => s.Replace("|", "\\|").Replace("\n", " ");
}

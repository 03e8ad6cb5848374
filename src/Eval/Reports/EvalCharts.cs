using System.Globalization;
using System.Text;

namespace Rag.Eval;

/// <summary>Inline SVG charts for the HTML report, and the numbers behind them (tested on their own).</summary>
public static class EvalCharts
{
    const int W = 560, H = 300, Left = 48, Right = 16, Top = 28, Bottom = 40;
    const int PlotW = W - Left - Right, PlotH = H - Top - Bottom;

    /// <summary>recall(k) for k = 1..maxK from each question's first relevant rank (null: never within maxK).</summary>
    public static double[] RecallCurve(IReadOnlyList<int?> firstRanks, int maxK)
    {
        var curve = new double[maxK];
        if (firstRanks.Count == 0) return curve;
        var hitsAtRank = new int[maxK + 1];
        foreach (var r in firstRanks)
            if (r is { } x && x >= 1 && x <= maxK) hitsAtRank[x]++;
        var cumulative = 0;
        for (var k = 1; k <= maxK; k++)
        {
            cumulative += hitsAtRank[k];
            curve[k - 1] = (double)cumulative / firstRanks.Count;
        }
        return curve;
    }

    /// <summary>Equal-width bins over [min, max] (a single value gets one bin); Edges has Counts.Length + 1 entries.</summary>
    public static (double[] Edges, int[] Counts) Histogram(IReadOnlyList<double> values, int bins = 20)
    {
        if (values.Count == 0) return ([0, 1], [0]);
        double min = values.Min(), max = values.Max();
        if (max <= min) return ([min, min + 1], [values.Count]);
        var counts = new int[bins];
        var width = (max - min) / bins;
        foreach (var v in values) counts[Math.Min(bins - 1, (int)((v - min) / width))]++;
        var edges = new double[bins + 1];
        for (var i = 0; i <= bins; i++) edges[i] = min + i * width;
        return (edges, counts);
    }

    /// <summary>Recall@k and answer recall@k against k on a log axis, with the run's k values marked.</summary>
    public static string RecallCurve(IReadOnlyList<QuestionResult> questions, IReadOnlyList<int> ks)
    {
        var maxK = Math.Max(1, ks.Count == 0 ? 1 : ks.Max());
        var gold = RecallCurve(questions.Where(q => q.HasGold).Select(q => q.FirstGoldRank).ToList(), maxK);
        var answer = RecallCurve(questions.Where(q => q.HasAnswers).Select(q => q.FirstAnswerRank).ToList(), maxK);
        var hasGold = questions.Any(q => q.HasGold);
        var hasAnswers = questions.Any(q => q.HasAnswers);

        double X(int k) => Left + (maxK == 1 ? PlotW / 2.0 : PlotW * Math.Log(k) / Math.Log(maxK));
        double Y(double v) => Top + PlotH * (1 - v);

        var sb = Open("chart-recall", "Recall@k");
        for (var i = 0; i <= 4; i++)
        {
            var v = i / 4.0;
            sb.Append(Line(Left, Y(v), Left + PlotW, Y(v), "grid"))
              .Append(Text(Left - 6, Y(v) + 4, v.ToString("0.00", CultureInfo.InvariantCulture), "end"));
        }
        foreach (var k in ks.Distinct().Order())
            sb.Append(Line(X(k), Top, X(k), Top + PlotH, "grid")).Append(Text(X(k), Top + PlotH + 16, k.ToString(CultureInfo.InvariantCulture), "middle"));
        sb.Append(Line(Left, Top + PlotH, Left + PlotW, Top + PlotH, "axis")).Append(Line(Left, Top, Left, Top + PlotH, "axis"))
          .Append(Text(Left + PlotW / 2.0, H - 6, "k (passages retrieved, log scale)", "middle"));
        if (hasGold) sb.Append(Polyline(gold, X, Y, "recall"));
        if (hasAnswers) sb.Append(Polyline(answer, X, Y, "answer"));
        var legendY = Top + PlotH - 10;
        if (hasGold) sb.Append(Line(Left + 12, legendY - 16, Left + 32, legendY - 16, "recall", 2)).Append(Text(Left + 36, legendY - 12, "gold document in top k", "start"));
        if (hasAnswers) sb.Append(Line(Left + 12, legendY, Left + 32, legendY, "answer", 2)).Append(Text(Left + 36, legendY + 4, "answer string in top k", "start"));
        return sb.Append("</svg>\n").ToString();
    }

    public static string Histogram(string id, string title, IReadOnlyList<double> values)
    {
        var (edges, counts) = Histogram(values);
        var maxCount = Math.Max(1, counts.Max());
        var sb = Open(id, title + (values.Count == 0 ? " (no data)" : ""));
        var barW = (double)PlotW / counts.Length;
        for (var i = 0; i < counts.Length; i++)
        {
            var h = PlotH * counts[i] / (double)maxCount;
            sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" x=\"{F(Left + i * barW + 1)}\" y=\"{F(Top + PlotH - h)}\" width=\"{F(Math.Max(1, barW - 2))}\" height=\"{F(h)}\"><title>{F(edges[i])}–{F(edges[i + 1])} ms: {counts[i]}</title></rect>");
        }
        sb.Append(Line(Left, Top + PlotH, Left + PlotW, Top + PlotH, "axis")).Append(Line(Left, Top, Left, Top + PlotH, "axis"))
          .Append(Text(Left - 6, Top + 4, maxCount.ToString(CultureInfo.InvariantCulture), "end"))
          .Append(Text(Left - 6, Top + PlotH + 4, "0", "end"));
        for (var i = 0; i <= 4; i++)
        {
            var x = Left + PlotW * i / 4.0;
            sb.Append(Text(x, Top + PlotH + 16, F(edges[0] + (edges[^1] - edges[0]) * i / 4.0), "middle"));
        }
        sb.Append(Text(Left + PlotW / 2.0, H - 6, "milliseconds per question", "middle"));
        return sb.Append("</svg>\n").ToString();
    }

    static StringBuilder Open(string id, string title) => new StringBuilder()
        .Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" class=\"chart\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{System.Net.WebUtility.HtmlEncode(title)}\">")
        .Append(Text(W / 2.0, 18, title, "middle", "title"));

    static string Polyline(double[] curve, Func<int, double> x, Func<double, double> y, string cls)
    {
        var sb = new StringBuilder("<polyline fill=\"none\" stroke-width=\"2\" class=\"").Append(cls).Append("\" points=\"");
        for (var k = 1; k <= curve.Length; k++) sb.Append(F(x(k))).Append(',').Append(F(y(curve[k - 1]))).Append(' ');
        return sb.Append("\"/>").ToString();
    }

    static string Line(double x1, double y1, double x2, double y2, string cls, int width = 1) =>
        string.Create(CultureInfo.InvariantCulture, $"<line class=\"{cls}\" stroke-width=\"{width}\" x1=\"{F(x1)}\" y1=\"{F(y1)}\" x2=\"{F(x2)}\" y2=\"{F(y2)}\"/>");

    static string Text(double x, double y, string text, string anchor, string cls = "") =>
        string.Create(CultureInfo.InvariantCulture, $"<text{(cls.Length > 0 ? $" class=\"{cls}\"" : "")} x=\"{F(x)}\" y=\"{F(y)}\" text-anchor=\"{anchor}\">{System.Net.WebUtility.HtmlEncode(text)}</text>");

    static string F(double v) => v.ToString(Math.Abs(v) >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture);
}

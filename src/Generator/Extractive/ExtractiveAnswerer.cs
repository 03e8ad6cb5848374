namespace Rag.Generator.Extractive;

/// <summary>A sentence quoted from a passage; Start/Length locate it in the passage's text.</summary>
public sealed record ExtractedSentence(int PassageNumber, int Start, int Length, string Text, double Score);

/// <summary>The answer text (each sentence followed by its [n]) and the sentences it quotes; none when nothing matched.</summary>
public sealed record ExtractiveAnswer(string Text, IReadOnlyList<ExtractedSentence> Sentences)
{
    public bool Found => Sentences.Count > 0;
}

/// <summary>
/// The answer when no generator is configured: the passages' own sentences that best support the question.
/// Each sentence of the top passages is scored with Okapi BM25 (k1 1.2, b 0.75) against the question's
/// content words, the sentences of those passages being the collection (so a word common to them all counts
/// for little). Two small additions help with how answers are written: a sentence that opens with a
/// pronoun ("It was dedicated in 1886.") also matches the previous sentence's words at half weight, and a
/// question asking for a number or date ("when", "how many") favours sentences holding one (x1.25), and text that
/// reads as code or a command synopsis counts for a tenth unless the question asks for syntax. A bare label (a
/// definition list's term, a heading: a few words without a full stop) counts for a tenth too, and the sentence
/// after it also matches its words at half weight, as after a pronoun. A rank
/// prior 1 / (1 + 0.1 (r - 1)) prefers the retriever's earlier passages. With a <see cref="SentenceSimilarity"/> (the
/// question encoder), the lexical score, scaled to the best sentence's, is blended with the sentences' similarity to the
/// question, min-max scaled over the candidates: (1 - w) lexical + w semantic, before the penalties and the rank prior.
/// A question none of whose content words occurs anywhere is still not answered. The best sentence is kept, then up
/// to MaxSentences - 1 more scoring at least 60% of it that match a question word not yet covered,
/// and they are quoted in passage order. Deterministic: ties go to the earlier passage, then the earlier sentence.
/// </summary>
public sealed class ExtractiveAnswerer(int maxSentences = 2, int maxPassages = 5, SentenceSimilarity? similarity = null, double semanticWeight = ExtractiveAnswerer.DefaultSemanticWeight)
{
    /// <summary>The semantic share of a sentence's score; chosen on SQuAD dev (tests/Generator.Tests/SquadExtractiveTests).</summary>
    public const double DefaultSemanticWeight = 0.5;

    public const string NotFoundText = "I could not find an answer to this question in the documents.";

    const double K1 = 1.2, B = 0.75;
    const double RelativeThreshold = 0.6;
    const double ContextWeight = 0.5;
    const double NumberBonus = 1.25;
    const double PreformattedPenalty = 0.1;

    public async Task<ExtractiveAnswer> AnswerAsync(string question, IReadOnlyList<Passage> passages, CancellationToken ct = default)
    {
        var queryTerms = TextAnalysis.ContentWords(question).Distinct().ToArray();
        var candidates = Candidates(passages.Take(maxPassages).ToList());
        if (queryTerms.Length == 0 || candidates.Count == 0) return new ExtractiveAnswer(NotFoundText, []);

        ScoreLexically(queryTerms, candidates);
        if (candidates.All(c => c.Score <= 0)) return new ExtractiveAnswer(NotFoundText, []);
        if (similarity is not null && semanticWeight > 0)
            Blend(candidates, await similarity.ScoreAsync(question, candidates.Select(c => c.Text).ToList(), ct).ConfigureAwait(false));
        var scored = ApplyRules(question, candidates);
        var best = scored[0];

        var chosen = new List<Candidate> { best };
        var covered = best.Terms.Intersect(queryTerms).ToHashSet(StringComparer.Ordinal);
        foreach (var c in scored.Skip(1))
        {
            if (chosen.Count >= maxSentences || c.Score < RelativeThreshold * best.Score) break;
            if (!c.Terms.Any(t => queryTerms.Contains(t) && !covered.Contains(t))) continue;
            chosen.Add(c);
            covered.UnionWith(c.Terms);
        }

        // Read in document order: a sentence opening with "It" needs the one it refers to before it.
        var sentences = chosen.OrderBy(c => c.Rank).ThenBy(c => c.Span.Start).Select(c => new ExtractedSentence(c.Passage.Number, c.Span.Start, c.Span.Length, c.Text, c.Score)).ToList();
        return new ExtractiveAnswer(string.Join(" ", sentences.Select(s => WithCitation(s.Text, s.PassageNumber))), sentences);
    }

    sealed record Candidate(Passage Passage, int Rank, SentenceSpan Span, string Text, List<string> Terms, List<string> ContextTerms, bool IsLabel = false)
    {
        public double Score { get; set; }
    }

    static List<Candidate> Candidates(List<Passage> passages)
    {
        var list = new List<Candidate>();
        for (var r = 0; r < passages.Count; r++)
        {
            var p = passages[r];
            List<string> previous = [];
            var previousIsLabel = false;
            foreach (var span in TextAnalysis.SplitSentences(p.Text))
            {
                var text = p.Text.Substring(span.Start, span.Length);
                var terms = TextAnalysis.ContentWords(text);
                var opensWithPronoun = TextAnalysis.Words(text).FirstOrDefault() is { } first && TextAnalysis.IsAnaphor(first);
                var isLabel = TextAnalysis.IsLabel(text);
                // A definition reads its term's words (a manual's "RESTART IDENTITY" line, then what it does), as a
                // pronoun reads the previous sentence's.
                list.Add(new Candidate(p, r + 1, span, text, terms, opensWithPronoun || previousIsLabel ? previous : [], isLabel));
                previous = terms;
                previousIsLabel = isLabel;
            }
        }
        return list;
    }

    /// <summary>Okapi BM25 of each sentence against the question, its context words (after a pronoun or a label) at half weight.</summary>
    static void ScoreLexically(string[] queryTerms, List<Candidate> candidates)
    {
        double n = candidates.Count;
        var avgLength = Math.Max(1.0, candidates.Average(c => c.Terms.Count));
        foreach (var term in queryTerms)
        {
            var df = candidates.Count(c => c.Terms.Contains(term));
            if (df == 0) continue;
            var idf = Math.Log(1 + (n - df + 0.5) / (df + 0.5));
            foreach (var c in candidates)
            {
                var norm = K1 * (1 - B + B * c.Terms.Count / avgLength);
                var tf = c.Terms.Count(t => t == term);
                if (tf > 0) c.Score += idf * tf * (K1 + 1) / (tf + norm);
                else if (c.ContextTerms.Contains(term)) c.Score += ContextWeight * idf * (K1 + 1) / (1 + norm);
            }
        }
    }

    /// <summary>(1 - w) lexical / best lexical + w (cos - min cos) / (max cos - min cos), over this question's candidates.</summary>
    void Blend(List<Candidate> candidates, float[] cosines)
    {
        var bestLexical = candidates.Max(c => c.Score);
        float min = cosines.Min(), max = cosines.Max();
        var range = max - min;
        for (var i = 0; i < candidates.Count; i++)
        {
            var semantic = range > 1e-6f ? (cosines[i] - min) / range : 1.0;
            candidates[i].Score = (1 - semanticWeight) * candidates[i].Score / bestLexical + semanticWeight * semantic;
        }
    }

    static List<Candidate> ApplyRules(string question, List<Candidate> candidates)
    {
        var wantsNumber = AsksForNumber(question);
        var wantsSyntax = TextAnalysis.AsksForSyntax(question);
        foreach (var c in candidates)
        {
            if (wantsNumber && c.Score > 0 && HasNumberOrDate(c.Text)) c.Score *= NumberBonus;
            // A synopsis repeats the question's keywords but does not answer it in words: prose first, unless syntax is asked for.
            if (!wantsSyntax && TextAnalysis.LooksPreformatted(c.Text)) c.Score *= PreformattedPenalty;
            // A bare term or heading names the subject but says nothing about it: the sentence after it answers.
            if (c.IsLabel) c.Score *= PreformattedPenalty;
            c.Score /= 1 + 0.1 * (c.Rank - 1);
        }
        // OrderBy is stable: equal scores keep passage order, then sentence order.
        return candidates.OrderByDescending(c => c.Score).ToList();
    }

    static readonly string[] NumberCues = ["when", "what year", "which year", "what date", "how many", "how much", "how long", "how old", "how tall", "how far", "how big", "how large", "how high", "how deep"];

    static readonly string[] Months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

    static bool AsksForNumber(string question)
    {
        var q = " " + string.Join(' ', TextAnalysis.Words(question)).ToLowerInvariant() + " ";
        return NumberCues.Any(cue => q.Contains(" " + cue + " ", StringComparison.Ordinal));
    }

    static bool HasNumberOrDate(string sentence) =>
        sentence.Any(char.IsDigit) || TextAnalysis.Words(sentence).Any(w => Months.Contains(w.ToLowerInvariant()));

    /// <summary>"It opened in 1887 [2]." — the marker goes before the closing full stop when there is one.</summary>
    static string WithCitation(string sentence, int number)
    {
        var s = sentence.TrimEnd();
        var end = s.Length;
        while (end > 0 && s[end - 1] is '.' or '!' or '?' or '…') end--;
        var marker = $" [{number}]";
        if (end < s.Length) return string.Concat(s.AsSpan(0, end), marker, s.AsSpan(end));
        // Ends in a closing quote or bracket (keep the marker outside it), or in no punctuation at all.
        return char.IsLetterOrDigit(s[^1]) ? s + marker + "." : s + marker;
    }
}

using Rag.Generator;
using Rag.Retriever;

namespace Rag.Eval;

/// <summary>The chat's <see cref="GroundedAnswerer"/> as the harness's answerer: same prompt, same citations.</summary>
public sealed class GroundedEvalAnswerer(GroundedAnswerer answerer) : IEvalAnswerer
{
    public async Task<EvalAnswer> AnswerAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken ct)
    {
        var numbered = passages.Select((p, i) => new Passage(i + 1, p.Chunk.DocumentId, p.Chunk.Id, p.DocumentTitle, p.Chunk.Text,
            p.Chunk.StartChar, p.Chunk.EndChar, p.Chunk.Page, p.Chunk.HeadingPath, p.Chunk.PageLabel)).ToList();
        var done = await answerer.AnswerCompleteAsync(question, numbered, [], ct);
        // Citations to numbers that were not shown to the model are wrong citations, so they stay in.
        var cited = done.Citations.Select(c => c.Number).Concat(done.DroppedCitations).ToList();
        return new EvalAnswer(done.Answer, cited, done.TokenCount, done.GenerationTime);
    }
}

namespace Rag.Eval;

public enum EvalPhase { Loading, Ingesting, Questions, Reporting, Done }

/// <summary>Where a run is: Completed of Total in the current phase (ingest counts documents, then questions are counted).</summary>
public sealed record EvalProgress(EvalPhase Phase, int Completed, int Total, string Message)
{
    /// <summary>0..1 within the phase.</summary>
    public double Fraction => Total <= 0 ? 0 : Math.Clamp((double)Completed / Total, 0, 1);
}

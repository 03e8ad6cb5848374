namespace Rag.Testing;

/// <summary>Settings every service-level test starts from, unless a test says otherwise.</summary>
public static class TestEnvironment
{
    /// <summary>
    /// A fresh service runs the built-in encoder; most tests are about other things and would spend minutes embedding,
    /// so they run BM25-only (QuestionEncoder = none) through the environment, which child processes inherit too.
    /// Tests of the encoders set Rag:Models:QuestionEncoder themselves (a setting or argument outranks the environment).
    /// </summary>
    public static void UseBm25OnlyByDefault()
    {
        if (Environment.GetEnvironmentVariable("Rag__Models__QuestionEncoder") is null)
            Environment.SetEnvironmentVariable("Rag__Models__QuestionEncoder", "none");
    }
}

namespace Rag.Tokenizers;

/// <summary>
/// Ordinal string equality with a cheap hash (FNV-1a over UTF-16 units) that also hashes spans, so vocabulary
/// lookups of word pieces need no substring. The keys are the fixed vocabulary, so input text cannot force
/// collisions into the table; it can only probe it.
/// </summary>
internal sealed class VocabComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<char>, string>
{
    public static readonly VocabComparer Instance = new();

    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    public int GetHashCode(string obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<char> alternate, string other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<char> alternate) => Hash(alternate);

    public string Create(ReadOnlySpan<char> alternate) => alternate.ToString();

    static int Hash(ReadOnlySpan<char> s)
    {
        uint h = 2166136261;
        foreach (char c in s) h = (h ^ c) * 16777619;
        return (int)h;
    }
}

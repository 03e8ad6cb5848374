namespace Rag.Retriever.Storage;

/// <summary>Small helpers for the record payloads (BinaryWriter strings are UTF-8 with a 7-bit length).</summary>
internal static class Binary
{
    public static byte[] Write(Action<BinaryWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) body(w);
        return ms.ToArray();
    }

    public static void WriteStrings(this BinaryWriter w, IReadOnlyCollection<string> values)
    {
        w.Write7BitEncodedInt(values.Count);
        foreach (var v in values) w.Write(v);
    }

    public static string[] ReadStrings(this BinaryReader r)
    {
        var n = r.Read7BitEncodedInt();
        var values = new string[n];
        for (var i = 0; i < n; i++) values[i] = r.ReadString();
        return values;
    }

    public static BinaryReader Reader(ReadOnlyMemory<byte> payload)
    {
        var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(payload.ToArray(), writable: false);
        return new BinaryReader(stream, System.Text.Encoding.UTF8);
    }
}

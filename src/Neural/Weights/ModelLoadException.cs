namespace Rag.Neural.Weights;

/// <summary>A model directory, checkpoint or config that cannot be used. The message names the file and, where one is involved, the tensor.</summary>
public sealed class ModelLoadException : Exception
{
    public string? FilePath { get; }
    public string? TensorName { get; }

    public ModelLoadException(string message, string? filePath = null, string? tensorName = null, Exception? inner = null)
        : base(Compose(message, filePath, tensorName), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    static string Compose(string message, string? file, string? tensor) =>
        message + (tensor is null ? "" : $" (tensor \"{tensor}\")") + (file is null ? "" : $" (file {file})");
}

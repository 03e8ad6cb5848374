namespace Rag.Storage;

/// <summary>The store cannot be reached or used (unreachable host, wrong password, unwritable folder); the message says which and why.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

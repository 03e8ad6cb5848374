using Rag.Api.Cli;

// `rag` with no command (or `rag serve`) runs the HTTP service; any other command is the CLI.
return await RagCli.RunAsync(args);

public partial class Program;

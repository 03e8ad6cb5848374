using System.Runtime.CompilerServices;
using Rag.Testing;

namespace Rag.Web.Tests;

static class ModuleSetup
{
    [ModuleInitializer]
    internal static void Initialize() => TestEnvironment.UseBm25OnlyByDefault();
}

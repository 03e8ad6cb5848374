using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Rag.Neural.Weights;

/// <summary>One embedded resource of an assembly file: where its bytes lie in the file.</summary>
public sealed record ManifestResource(string Name, long Offset, long Length);

/// <summary>
/// Lists the manifest resources of a .NET assembly by reading its PE image and metadata tables:
/// the assembly is never loaded, so none of its code runs (ECMA-335 II.24.2.6 and II.22.24).
/// </summary>
public static class ManifestResources
{
    public static IReadOnlyList<ManifestResource> List(string assemblyPath)
    {
        if (!File.Exists(assemblyPath)) throw new ModelLoadException("assembly not found", assemblyPath);
        try
        {
            using var file = File.OpenRead(assemblyPath);
            using var pe = new PEReader(file);
            var headers = pe.PEHeaders;
            if (headers.CorHeader is null || !pe.HasMetadata) throw new ModelLoadException("not a .NET assembly (no CLI header)", assemblyPath);
            if (!headers.TryGetDirectoryOffset(headers.CorHeader.ResourcesDirectory, out int resourcesStart))
                throw new ModelLoadException("the assembly has no resources section", assemblyPath);
            var metadata = pe.GetMetadataReader();
            var result = new List<ManifestResource>();
            Span<byte> lengthPrefix = stackalloc byte[4];
            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                if (!resource.Implementation.IsNil) continue; // lives in another file or assembly
                // Each embedded resource is a 4-byte little-endian length followed by its bytes.
                long at = resourcesStart + resource.Offset;
                file.Position = at;
                file.ReadExactly(lengthPrefix);
                long length = BitConverter.ToUInt32(lengthPrefix);
                if (at + 4 + length > file.Length)
                    throw new ModelLoadException($"resource {metadata.GetString(resource.Name)} overruns the file (truncated?)", assemblyPath);
                result.Add(new ManifestResource(metadata.GetString(resource.Name), at + 4, length));
            }
            return result;
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or EndOfStreamException)
        {
            throw new ModelLoadException($"cannot read the assembly's resources: {e.Message}", assemblyPath, null, e);
        }
    }
}

using Qdrant.Client.Grpc;
using Rag.Retriever.Qdrant;

namespace Rag.Retriever.Tests.Qdrant;

/// <summary>
/// What this service sends Qdrant, checked without a server: our filters as Qdrant Filter messages, our chunk ids as
/// point ids, the collection and payload-index layout. The behaviour against a real server is QdrantVectorIndexTests.
/// </summary>
public sealed class QdrantMappingTests
{
    [Fact]
    public void Tenant_alone_is_one_keyword_condition()
    {
        var filter = QdrantVectorIndex.ToFilter(new SearchFilter("acme"));
        var only = Assert.Single(filter.Must);
        Assert.Equal("tenant_id", only.Field.Key);
        Assert.Equal("acme", only.Field.Match.Keyword);
        Assert.Empty(filter.Should);
        Assert.Empty(filter.MustNot);
    }

    [Fact]
    public void Documents_and_tags_each_add_an_any_of_condition_with_each_value_once()
    {
        var filter = QdrantVectorIndex.ToFilter(new SearchFilter("acme", ["d1", "d2", "d1"], ["hr"]));
        Assert.Equal(3, filter.Must.Count);
        Assert.Equal("acme", filter.Must[0].Field.Match.Keyword);
        Assert.Equal("document_id", filter.Must[1].Field.Key);
        Assert.Equal(["d1", "d2"], filter.Must[1].Field.Match.Keywords.Strings);
        Assert.Equal("tags", filter.Must[2].Field.Key);
        Assert.Equal(["hr"], filter.Must[2].Field.Match.Keywords.Strings);
    }

    [Fact]
    public void Empty_document_and_tag_lists_do_not_narrow()
    {
        var filter = QdrantVectorIndex.ToFilter(new SearchFilter("acme", [], []));
        Assert.Single(filter.Must);
    }

    [Fact]
    public void A_filter_without_tenant_is_refused()
    {
        Assert.Throws<ArgumentException>(() => QdrantVectorIndex.ToFilter(new SearchFilter("")));
    }

    [Fact]
    public void Point_ids_are_version_5_uuids_of_tenant_and_chunk()
    {
        var id = QdrantVectorIndex.PointIdFor("acme", "doc1:0");
        Assert.Equal(PointId.PointIdOptionsOneofCase.Uuid, id.PointIdOptionsCase);
        Assert.Equal(id, QdrantVectorIndex.PointIdFor("acme", "doc1:0")); // a retried upsert overwrites
        Assert.NotEqual(id, QdrantVectorIndex.PointIdFor("other", "doc1:0"));
        Assert.NotEqual(id, QdrantVectorIndex.PointIdFor("acme", "doc1:1"));
        var guid = Guid.Parse(id.Uuid);
        Assert.Equal(5, guid.Version);
        Assert.Equal(QdrantPointId.For("acme", "doc1:0"), guid);
        // The length prefix keeps ("a", "b\nc") apart from ("a\nb", "c").
        Assert.NotEqual(QdrantVectorIndex.PointIdFor("a", "b\nc").Uuid, QdrantVectorIndex.PointIdFor("a\nb", "c").Uuid);
    }

    [Fact]
    public void A_point_carries_the_payload_filters_and_results_read()
    {
        var point = QdrantVectorIndex.ToPoint(new VectorRecord("doc1:0", "acme", "doc1", [1, 2, 3], ["hr", "eu"]));
        Assert.Equal(QdrantVectorIndex.PointIdFor("acme", "doc1:0"), point.Id);
        Assert.Equal("acme", point.Payload["tenant_id"].StringValue);
        Assert.Equal("doc1", point.Payload["document_id"].StringValue);
        Assert.Equal("doc1:0", point.Payload["chunk_id"].StringValue);
        Assert.Equal(["hr", "eu"], point.Payload["tags"].ListValue.Values.Select(v => v.StringValue));
    }

    [Fact]
    public void The_tenant_index_is_marked_is_tenant_and_documents_and_tags_are_indexed()
    {
        var indexes = QdrantVectorIndex.PayloadIndexes().ToDictionary(i => i.Field, i => i.Params);
        Assert.Equal(["tenant_id", "document_id", "tags"], indexes.Keys);
        Assert.True(indexes["tenant_id"]!.KeywordIndexParams.IsTenant);
        Assert.Null(indexes["document_id"]);
        Assert.Null(indexes["tags"]);
    }

    [Fact]
    public void A_new_collection_has_one_unnamed_vector_of_the_dimension_and_distance()
    {
        using var index = new QdrantVectorIndex(new QdrantOptions { Collection = "c", Distance = VectorDistance.Dot, ShardNumber = 2 });
        var request = index.CreateCollectionRequest(384);
        Assert.Equal("c", request.CollectionName);
        Assert.Equal(VectorsConfig.ConfigOneofCase.Params, request.VectorsConfig.ConfigCase);
        Assert.Equal(384UL, request.VectorsConfig.Params.Size);
        Assert.Equal(Distance.Dot, request.VectorsConfig.Params.Distance);
        Assert.Equal(2U, request.ShardNumber);
        Assert.False(request.HasReplicationFactor);
    }

    [Theory]
    [InlineData("localhost:6334")]
    [InlineData("grpc://localhost:6334")]
    [InlineData("")]
    public void A_url_that_is_not_absolute_http_is_refused_with_the_expected_form(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => new QdrantVectorIndex(new QdrantOptions { Url = url }));
        Assert.Contains("http://localhost:6334", e.Message);
    }

    [Fact]
    public async Task Nothing_listening_fails_the_start_up_check_with_one_line_naming_the_address()
    {
        // Port 9 (discard) on loopback: nobody listens here, so the connection is refused at once.
        using var index = new QdrantVectorIndex(new QdrantOptions { Url = "http://127.0.0.1:9", MaxRetries = 0 });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CheckReachableAsync());
        Assert.StartsWith("Qdrant at http://127.0.0.1:9 is not reachable", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task The_rest_port_gets_a_hint_toward_the_grpc_port()
    {
        using var index = new QdrantVectorIndex(new QdrantOptions { Url = "http://127.0.0.1:6333", MaxRetries = 0 });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CheckReachableAsync());
        Assert.StartsWith("Qdrant at http://127.0.0.1:6333 is not reachable", e.Message);
        Assert.Contains("6334", e.Message);
    }
}

using Rag.Neural.Models;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;
using Rag.Tokenizers;

namespace Rag.Neural.Training;

/// <summary>A trainable tower with the tokenizer and folder it came from.</summary>
public sealed record LoadedTower(EncoderTower Tower, WordPieceTokenizer Tokenizer, string Directory, string ModelType, int MaxTokens);

/// <summary>Opens model folders the inference loader reads (<see cref="NeuralModels.LoadBertEncoder"/>) as trainable towers.</summary>
public static class TrainableEncoders
{
    /// <summary>
    /// The tower in a BERT / sentence-transformer / DPR folder, its pooling and normalisation detected as the inference
    /// loader detects them; dropout is config.json's hidden_dropout_prob (0.1 when absent).
    /// </summary>
    public static LoadedTower Load(string directory, IBackend? ops = null, ITrainingOps? train = null)
    {
        var config = HfConfig.Load(directory);
        EncoderPooling pooling; bool normalize; WordPieceTokenizer tokenizer; int maxTokens;
        using (var inference = NeuralModels.LoadBertEncoder(directory))
            (pooling, normalize, tokenizer, maxTokens) = (inference.Pooling, inference.Normalize, (WordPieceTokenizer)inference.Tokenizer, inference.MaxTokens);
        using var weights = Checkpoint.Open(directory);
        var bertConfig = BertConfig.FromHf(config);
        int projection = config.ModelType == "dpr" ? config.Int("projection_dim", 0) : 0;
        float dropout = config.Float("hidden_dropout_prob", 0.1f);
        var tower = new EncoderTower(bertConfig, weights, NeuralModels.FindBertPrefix(weights), pooling, normalize, projection, dropout, ops, train);
        return new LoadedTower(tower, tokenizer, directory, config.ModelType, maxTokens);
    }
}

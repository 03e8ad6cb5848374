using Rag.Neural.Builtin;
using Rag.Neural.Models;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;
using Rag.Tokenizers;

namespace Rag.Neural.Training;

/// <summary>A trainable tower with its tokenizer, prompts and where it came from (a folder, or a built-in encoder).</summary>
public sealed record LoadedTower(EncoderTower Tower, WordPieceTokenizer Tokenizer, EncoderPrompts Prompts, int MaxTokens, string? Directory, BuiltinEncoder? Builtin)
{
    public string Spec => Builtin?.Spec ?? Directory!;
}

/// <summary>Opens what the inference loader reads (<see cref="NeuralModels.LoadEncoder"/>) as trainable towers.</summary>
public static class TrainableEncoders
{
    /// <summary>
    /// The tower of "builtin:NAME" or of a BERT / sentence-transformer / DPR folder, with pooling, normalisation and
    /// prompts as the inference loader detects them; dropout is config.json's hidden_dropout_prob (0.1 when absent,
    /// and for built-in encoders, whose BERT configs say 0.1).
    /// </summary>
    public static LoadedTower Load(string spec, IBackend? ops = null, ITrainingOps? train = null)
    {
        if (BuiltinEncoders.IsBuiltin(spec))
        {
            var builtin = BuiltinEncoders.Find(spec);
            var (weights, config, tokenizer) = NeuralModels.OpenBuiltin(builtin);
            using (weights)
            {
                var tower = new EncoderTower(config, weights, "", builtin.Pooling, builtin.Normalize, 0, 0.1f, ops, train);
                return new LoadedTower(tower, tokenizer, builtin.Prompts, Math.Min(builtin.MaxTokens, config.MaxPositions), null, builtin);
            }
        }
        var hf = HfConfig.Load(spec);
        EncoderPooling pooling; bool normalize; WordPieceTokenizer wordPiece; int maxTokens; EncoderPrompts prompts;
        using (var inference = NeuralModels.LoadBertEncoder(spec))
            (pooling, normalize, wordPiece, maxTokens, prompts) = (inference.Pooling, inference.Normalize, (WordPieceTokenizer)inference.Tokenizer, inference.MaxTokens, inference.Prompts);
        using var checkpoint = Checkpoint.Open(spec);
        var bertConfig = BertConfig.FromHf(hf);
        int projection = hf.ModelType == "dpr" ? hf.Int("projection_dim", 0) : 0;
        float dropout = hf.Float("hidden_dropout_prob", 0.1f);
        var trainable = new EncoderTower(bertConfig, checkpoint, NeuralModels.FindBertPrefix(checkpoint), pooling, normalize, projection, dropout, ops, train);
        return new LoadedTower(trainable, wordPiece, prompts, maxTokens, spec, null);
    }
}

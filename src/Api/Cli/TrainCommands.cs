using System.CommandLine;
using Rag.Eval;
using Rag.Eval.Training;
using Rag.Neural;
using Rag.Neural.Training;
using Spectre.Console;

namespace Rag.Api.Cli;

/// <summary>`rag train encoder`: fine-tunes the dual encoder on a question set (DPR's in-batch negatives), in our engine.</summary>
static class TrainCommands
{
    public static Command Train()
    {
        var train = new Command("train", "Train models on your own data.");
        var encoder = new Command("encoder", "Fine-tune the question/passage encoder on questions with gold passages; stopped midway, the same command resumes.");
        var dataset = new Option<string>("--dataset") { Description = "squad:PATH, jsonl:PATH or beir:DIR (the eval harness's formats).", Required = true };
        var corpus = new Option<string?>("--corpus") { Description = "Corpus file for question sets that name gold document ids." };
        var baseModel = new Option<string>("--base") { Description = "builtin:NAME or a model folder (the question tower, and the passage tower unless --context-base).", DefaultValueFactory = _ => "builtin:arctic-embed-xs" };
        var contextBase = new Option<string?>("--context-base") { Description = "A separate passage tower (DPR style); default: one shared tower." };
        var output = new Option<string>("--out") { Description = "Folder for the trained model (and its checkpoint).", Required = true };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "Questions per step (the others' passages are its negatives).", DefaultValueFactory = _ => 32 };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (AdamW, linear warm-up then decay).", DefaultValueFactory = _ => 2e-5f };
        var warmup = new Option<float>("--warmup") { Description = "Share of steps spent warming up.", DefaultValueFactory = _ => 0.1f };
        var hardNegatives = new Option<string>("--hard-negatives")
        {
            Description = "One hard negative per question: the best passage that is not gold and holds none of its answers, ranked by bm25 or by the base encoder (encoder); none: in-batch negatives only.",
            DefaultValueFactory = _ => "none",
        };
        hardNegatives.AcceptOnlyFromAmong("none", "bm25", "encoder");
        var inverseCloze = new Option<bool>("--inverse-cloze")
        {
            Description = "Also train on every corpus passage, questions or not: one of its sentences as the question, the rest as the passage (ORQA's inverse cloze task).",
        };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Train this many rounds of --epochs each; every round after the first starts from the last round's model and mines its hard negatives with it (ANCE's refreshed negatives). Needs --hard-negatives encoder.",
            DefaultValueFactory = _ => 1,
        };
        var holdout = new Option<int>("--holdout-articles") { Description = "Keep the last N articles' questions out of training and evaluate on them before and after.", DefaultValueFactory = _ => 0 };
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature for normalised (cosine) encoders.", DefaultValueFactory = _ => 0.05f };
        var maxQuestion = new Option<int>("--max-question-tokens") { DefaultValueFactory = _ => 64 };
        var maxPassage = new Option<int>("--max-passage-tokens") { DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 13 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints.", DefaultValueFactory = _ => 100 };
        foreach (var option in new Option[] { dataset, corpus, baseModel, contextBase, output, epochs, batch, lr, warmup, hardNegatives, inverseCloze, rounds, holdout, temperature, maxQuestion, maxPassage, seed, checkpointEvery })
            encoder.Options.Add(option);
        encoder.SetAction(async (parse, ct) =>
        {
            try
            {
                var negatives = Enum.Parse<HardNegativeSource>(parse.GetValue(hardNegatives)!, ignoreCase: true);
                var options = new DualEncoderTrainingOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    WarmupFraction = parse.GetValue(warmup),
                    HardNegatives = negatives != HardNegativeSource.None,
                    Temperature = parse.GetValue(temperature),
                    MaxQuestionTokens = parse.GetValue(maxQuestion),
                    MaxPassageTokens = parse.GetValue(maxPassage),
                    Seed = parse.GetValue(seed),
                    CheckpointEvery = parse.GetValue(checkpointEvery),
                };
                return await RunAsync(parse.GetValue(dataset)!, parse.GetValue(corpus), parse.GetValue(baseModel)!, parse.GetValue(contextBase),
                    parse.GetValue(output)!, parse.GetValue(holdout), negatives, parse.GetValue(inverseCloze), parse.GetValue(rounds), options, ct);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("rag: stopped; the checkpoint is saved: run the same command to resume.");
                return 130;
            }
            catch (Exception e) when (e is CliException or ArgumentException or InvalidOperationException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"rag: {e.Message}");
                return 1;
            }
        });
        train.Subcommands.Add(encoder);
        return train;
    }

    /// <summary>Where round <paramref name="round"/> of <paramref name="rounds"/> writes its model: the last one writes to --out itself.</summary>
    static string RoundFolder(string output, int round, int rounds) => round == rounds ? output : Path.Combine(output, $"round-{round}");

    static async Task<int> RunAsync(string datasetSpec, string? corpusPath, string baseSpec, string? contextSpec, string output, int holdout,
        HardNegativeSource negatives, bool inverseCloze, int rounds, DualEncoderTrainingOptions options, CancellationToken ct)
    {
        var console = AnsiConsole.Console;
        if (rounds < 1) throw new CliException("--rounds must be at least 1");
        if (rounds > 1 && negatives != HardNegativeSource.Encoder)
            throw new CliException("--rounds re-mines the hard negatives with each round's model: use it with --hard-negatives encoder");
        bool started = Directory.Exists(Path.Combine(output, "checkpoint")) || Directory.Exists(Path.Combine(output, "round-1"));
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() && !started)
            throw new CliException($"{output} is not empty and holds no training checkpoint: choose a new --out folder");

        var data = await DatasetLoader.LoadAsync(datasetSpec, corpusPath, ct);
        var models = new List<(string Name, string Question, string Context)> { ("base", baseSpec, contextSpec ?? baseSpec) };
        EncoderTrainingSet? set = null;
        bool shared = contextSpec is null;
        for (int round = 1; round <= rounds; round++)
        {
            var (_, question, context) = models[^1];
            if (rounds > 1) console.MarkupLine($"[bold]round {round} of {rounds}[/], from {Markup.Escape(question)}{(shared ? "" : $" and {Markup.Escape(context)}")}");
            set = await BuildSetAsync(data, holdout, negatives, inverseCloze, options.Seed, question, shared ? null : context, ct);
            var (q, c) = await TrainRoundAsync(set, question, shared ? null : context, RoundFolder(output, round, rounds), negatives, inverseCloze, options, ct);
            models.Add((rounds == 1 ? "trained" : $"round {round}", q, c));
        }

        if (set!.HeldOut.Count > 0)
        {
            var table = new Table().AddColumns("encoder", "Recall@5", "Recall@20", "MRR@10");
            foreach (var (name, question, context) in models)
            {
                var scores = await Task.Run(() => ScoreAsync(question, context, set, ct), ct);
                table.AddRow(name, F(scores.RecallAt5), F(scores.RecallAt20), F(scores.MrrAt10));
            }
            table.Caption($"dense retrieval, {set.HeldOut.Count} held-out questions against all {set.Corpus.Count} passages");
            console.Write(table);
        }
        var (_, questionFolder, contextFolder) = models[^1];
        console.MarkupLine(shared
            ? $"use it: Rag:Models:QuestionEncoder={Markup.Escape(questionFolder)} (then re-embed the corpus: see README, 'Fine-tune the encoder')"
            : $"use it: Rag:Models:QuestionEncoder={Markup.Escape(questionFolder)} and Rag:Models:ContextEncoder={Markup.Escape(contextFolder)} (then re-embed the corpus)");
        return 0;
    }

    /// <summary>Trains one round from the given towers into <paramref name="output"/> (resuming its checkpoint); returns the folders written.</summary>
    static async Task<(string Question, string Context)> TrainRoundAsync(EncoderTrainingSet set, string baseSpec, string? contextSpec, string output,
        HardNegativeSource negatives, bool inverseCloze, DualEncoderTrainingOptions options, CancellationToken ct)
    {
        var console = AnsiConsole.Console;
        console.MarkupLine($"[bold]{set.Pairs.Count - set.InverseCloze}[/] training questions from {set.TrainArticles} articles" +
            (inverseCloze ? $" and {set.InverseCloze} inverse-cloze pairs from the corpus" : "") +
            $"; {set.HeldOut.Count} held-out questions from {set.HeldOutArticles} articles; corpus of {set.Corpus.Count} passages");
        if (set.Pairs.Count < 2) throw new CliException("fewer than 2 training questions with a gold passage: nothing to train on");

        var question = TrainableEncoders.Load(baseSpec);
        var context = contextSpec is null ? null : TrainableEncoders.Load(contextSpec);
        var trainer = new DualEncoderTrainer(question, context, set.Pairs, options, Path.Combine(output, "checkpoint"));
        int resumed = trainer.Resume();
        if (resumed > 0) console.MarkupLine($"resuming at step {resumed} of {trainer.TotalSteps}");
        console.MarkupLine($"{trainer.TotalSteps} steps of {options.BatchSize} questions, {(trainer.Shared ? "shared tower" : "separate towers")}, " +
            $"{(question.Tower.Normalize ? $"cosine / {options.Temperature}" : "dot product")}, " +
            (negatives == HardNegativeSource.None ? "in-batch negatives only" : $"one {negatives.ToString().ToLowerInvariant()} hard negative per question ({set.Pairs.Count(p => p.HardNegative is not null)} found)"));

        await console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("training", maxValue: trainer.TotalSteps);
                task.Value = trainer.Step;
                var progress = new Reporter(p =>
                {
                    task.Value = p.Step;
                    task.Description = $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4} (mean {p.AverageLoss:F4})  {p.StepsPerSecond:F2} steps/s  ETA {p.Remaining:hh\\:mm\\:ss}";
                });
                await Task.Run(() => trainer.Train(progress, ct), ct);
            });

        var folders = trainer.Export(output);
        console.MarkupLine($"[green]wrote[/] {Markup.Escape(folders.Question)}{(trainer.Shared ? "" : $" and {Markup.Escape(folders.Context)}")}");
        return folders;
    }

    static async Task<EncoderTrainingSet> BuildSetAsync(EvalDataset data, int holdout, HardNegativeSource negatives, bool inverseCloze, int seed,
        string baseSpec, string? contextSpec, CancellationToken ct)
    {
        if (negatives != HardNegativeSource.Encoder) return await EncoderTrainingSet.BuildAsync(data, holdout, negatives, null, inverseCloze, seed, ct);
        AnsiConsole.MarkupLine($"mining hard negatives with {Markup.Escape(baseSpec)} over {data.Corpus.Count} passages...");
        using var q = NeuralModels.LoadEncoder(baseSpec);
        using var c = contextSpec is null ? null : NeuralModels.LoadEncoder(contextSpec);
        return await EncoderTrainingSet.BuildAsync(data, holdout, negatives, (q, c ?? q), inverseCloze, seed, ct);
    }

    static string F(double v) => v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);

    static async Task<DenseRetrievalScores> ScoreAsync(string questionSpec, string contextSpec, EncoderTrainingSet set, CancellationToken ct)
    {
        using var q = NeuralModels.LoadEncoder(questionSpec);
        using var c = contextSpec == questionSpec ? null : NeuralModels.LoadEncoder(contextSpec);
        return await DenseRetrievalEvaluation.EvaluateAsync(q, c ?? q, set.Corpus, set.HeldOut, ct);
    }

    /// <summary>Reports on the training thread itself (Progress&lt;T&gt; would post to the thread pool out of order).</summary>
    sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}

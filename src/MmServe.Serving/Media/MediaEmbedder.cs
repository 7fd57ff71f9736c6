using System.Buffers.Text;
using System.Security.Cryptography;
using MmServe.Media;
using MmServe.Media.Images;
using MmServe.Runtime.Onnx.Execution;

namespace MmServe.Serving.Media;

/// <summary>
/// Client media to LLM-space embeddings, for every input modality the server serves: read the bytes (inline
/// data or, when enabled, a hardened remote fetch) under the modality's byte limit, look the encoder output up
/// by a SHA-256 of the bytes, otherwise decode and preprocess per the manifest and queue the item on the
/// modality's <see cref="ComponentBatcher"/>, which shares ORT runs with concurrent requests. All items of a
/// request are processed concurrently. Thread-safe; one instance serves all requests.
/// </summary>
public sealed class MediaEmbedder(
    IReadOnlyDictionary<string, MediaModality> modalities,
    MediaPolicy policy,
    EncoderOutputCache cache,
    IRemoteMediaSource? remote) : IAsyncDisposable
{
    public MediaPolicy Policy => policy;

    /// <summary>Told how long each item took to read, decode and preprocess (or to be found in the cache).</summary>
    public Action<string, TimeSpan>? Decoded { get; init; }

    public EncoderOutputCache Cache => cache;

    /// <summary>Media modalities served (sorted), for /v1/models.</summary>
    public IReadOnlyList<string> ServedModalities { get; } = [.. modalities.Keys.Order(StringComparer.Ordinal)];

    public MediaModality Modality(string name) => modalities[name];

    /// <summary>Embeddings of every reference, in order, or the first failing reference's error.</summary>
    public Task<MediaEmbeddingResult> EmbedAsync(IReadOnlyList<MediaReference> references, CancellationToken ct) =>
        EmbedAsync(references, null, ct);

    /// <param name="instructions">Per reference, the instruction ids an instruction-aware projector reads
    /// (<see cref="ProjectorInstructions"/>); null, or a null entry, for none (an empty instruction).</param>
    public async Task<MediaEmbeddingResult> EmbedAsync(IReadOnlyList<MediaReference> references, IReadOnlyList<int[]?>? instructions, CancellationToken ct)
    {
        if (references.Count == 0)
        {
            return new MediaEmbeddingResult([], -1, null);
        }

        // Once one item fails the request is refused; the others stop instead of finishing for nobody.
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tasks = references.Select((r, i) => EmbedOneAsync(r, instructions is not null && i < instructions.Count ? instructions[i] : null, failFast)).ToArray();
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Cancelled by failFast: the failing item's error is reported below.
        }

        for (int i = 0; i < tasks.Length; i++)
        {
            if (tasks[i].IsCompletedSuccessfully && tasks[i].Result.Error is { } error)
            {
                return new MediaEmbeddingResult(null, i, error);
            }
        }

        ct.ThrowIfCancellationRequested();
        return new MediaEmbeddingResult([.. tasks.Select(t => t.Result.Value!)], -1, null);
    }

    private async Task<MediaResult<float[]>> EmbedOneAsync(MediaReference reference, int[]? instruction, CancellationTokenSource failFast)
    {
        // One span per item: fetch/decode/preprocess, then the batched encoder run links back to it.
        using var span = MmServe.Abstractions.Tracing.Source.StartActivity($"media {reference.Modality}");
        span?.SetTag("mmserve.media.param", reference.Param);
        var ct = failFast.Token;
        var modality = modalities[reference.Modality];
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await Task.Run(() => PreprocessOrHitAsync(reference, modality, instruction, ct), ct).ConfigureAwait(false);
        Decoded?.Invoke(reference.Modality, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        if (!result.IsSuccess)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Error.Code);
            await failFast.CancelAsync().ConfigureAwait(false);
            return result.Error;
        }

        var (key, embeddings, input) = result.Value;
        span?.SetTag("mmserve.media.cache_hit", embeddings is not null);
        if (embeddings is null)
        {
            embeddings = await modality.EncodeAsync(input!, ct).ConfigureAwait(false);
            cache.Add(key, embeddings);
        }

        return embeddings;
    }

    /// <summary>Bytes → cache hit, or preprocessed encoder input.</summary>
    private async Task<MediaResult<(string Key, float[]? Embeddings, float[]? Input)>> PreprocessOrHitAsync(
        MediaReference reference, MediaModality modality, int[]? instruction, CancellationToken ct)
    {
        var pre = modality.Preprocessor;
        var bytes = await ReadBytesAsync(reference, pre.MaxEncodedBytes, ct).ConfigureAwait(false);
        if (!bytes.IsSuccess)
        {
            return bytes.Error;
        }

        if (DeclaredFormatCheck.Check(reference, bytes.Value.Span) is { } mislabelled)
        {
            return mislabelled;
        }

        // An instruction-aware projector's output depends on the instruction too: it is part of the key and the input.
        var instructed = modality.Instruction;
        var key = CacheKey(bytes.Value.Span, instructed is null ? pre.ConfigurationKey : $"{pre.ConfigurationKey}|instruction:{string.Join(',', instruction ?? [])}");
        if (cache.TryGet(key, out var hit))
        {
            return (key, (float[]?)hit, (float[]?)null);
        }

        var input = await pre.PreprocessAsync(bytes.Value, reference.Format, ct).ConfigureAwait(false);
        if (input.IsSuccess && instructed is not null)
        {
            return (key, (float[]?)null, ProjectorInstructions.Append(input.Value, instruction ?? [], instructed.MaxTokens, instructed.PadId));
        }

        return input.IsSuccess ? (key, (float[]?)null, (float[]?)input.Value) : input.Error;
    }

    private async Task<MediaResult<ReadOnlyMemory<byte>>> ReadBytesAsync(MediaReference reference, long maxBytes, CancellationToken ct)
    {
        switch (reference.Kind)
        {
            case MediaSourceKind.DataUrl:
                var url = DataUrl.Parse(reference.Source, maxBytes);
                return url.IsSuccess ? url.Value.Data : url.Error;
            case MediaSourceKind.Base64 when reference.Modality != ServedModel.AudioModality:
                return TensorBase64.Decode(reference.Modality, reference.Source, maxBytes);
            case MediaSourceKind.Base64:
                return DecodeBase64(reference.Source, maxBytes);
            case MediaSourceKind.Bytes:
                return reference.Bytes.Length <= maxBytes
                    ? reference.Bytes
                    : new MediaError(MediaErrorCodes.PayloadTooLarge, $"The {reference.Modality} is {reference.Bytes.Length} bytes; the limit is {maxBytes} bytes.");
            default:
                if (remote is null)
                {
                    return new MediaError("remote_media_disabled", "Remote media URLs are disabled on this server.");
                }

                return await remote.FetchAsync(reference.Source, maxBytes, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Bare base64 (input_audio.data); the decoded size is checked before anything is allocated.</summary>
    private static MediaResult<ReadOnlyMemory<byte>> DecodeBase64(string base64, long maxBytes)
    {
        if (!Base64.IsValid(base64.AsSpan(), out int length))
        {
            return new MediaError(MediaErrorCodes.InvalidAudio, "The audio data is not valid base64.");
        }

        if (length > maxBytes)
        {
            return new MediaError(MediaErrorCodes.AudioTooLarge, $"The encoded audio is {length} bytes; the limit is {maxBytes} bytes.");
        }

        var bytes = new byte[length];
        return Convert.TryFromBase64String(base64, bytes, out int written)
            ? (ReadOnlyMemory<byte>)bytes.AsMemory(0, written)
            : new MediaError(MediaErrorCodes.InvalidAudio, "The audio data is not valid base64.");
    }

    /// <summary>SHA-256 of the bytes plus everything else that shapes the embeddings (component and preprocessing).</summary>
    private static string CacheKey(ReadOnlySpan<byte> bytes, string configuration) =>
        Convert.ToHexStringLower(SHA256.HashData(bytes)) + "|" + configuration;

    public async ValueTask DisposeAsync()
    {
        foreach (var modality in modalities.Values)
        {
            await modality.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Either every item's embeddings (tokens x hidden floats each) or the error of the item at <see cref="FailedIndex"/>.</summary>
public sealed record MediaEmbeddingResult(IReadOnlyList<float[]>? Embeddings, int FailedIndex, MediaError? Error);

/// <summary>
/// One served input modality: its front end and its encoder — a batched chain of fixed-size items, or (Qwen2-VL,
/// whose items differ in length) a direct encode function.
/// </summary>
public sealed class MediaModality : IAsyncDisposable
{
    private readonly ComponentBatcher? _batcher;
    private readonly Func<float[], CancellationToken, Task<float[]>>? _encode;
    private readonly IDisposable? _chain;

    public MediaModality(IMediaPreprocessor preprocessor, ComponentBatcher batcher, IDisposable chain)
    {
        Preprocessor = preprocessor;
        _batcher = batcher;
        _chain = chain;
    }

    /// <param name="encode">Preprocessed item → embeddings.</param>
    /// <param name="owned">What <paramref name="encode"/> runs on, if this modality owns it (disposed with it).</param>
    public MediaModality(IMediaPreprocessor preprocessor, Func<float[], CancellationToken, Task<float[]>> encode, IDisposable? owned = null)
    {
        Preprocessor = preprocessor;
        _encode = encode;
        _chain = owned;
    }

    public IMediaPreprocessor Preprocessor { get; }

    /// <summary>Set when the projector reads each item's instruction (InstructBLIP); its input then ends in the instruction.</summary>
    public ProjectorInstructionInput? Instruction { get; init; }

    /// <exception cref="InvalidOperationException">The modality encodes without a batcher.</exception>
    public ComponentBatcher Batcher => _batcher ?? throw new InvalidOperationException("this modality encodes its items directly");

    /// <summary>Whether disposing this modality disposes <paramref name="component"/>.</summary>
    public bool Owns(object? component) => component is not null && ReferenceEquals(_chain, component);

    public Task<float[]> EncodeAsync(float[] input, CancellationToken ct) =>
        _batcher?.RunAsync(input, ct) ?? _encode!(input, ct);

    public async ValueTask DisposeAsync()
    {
        if (_batcher is not null)
        {
            await _batcher.DisposeAsync().ConfigureAwait(false);
        }

        _chain?.Dispose();
    }
}

/// <summary>Fetches remote media bytes under a byte cap (implemented over the hardened remote fetcher).</summary>
public interface IRemoteMediaSource
{
    Task<MediaResult<ReadOnlyMemory<byte>>> FetchAsync(string url, long maxBytes, CancellationToken ct);
}

using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;
using MmServe.Model.Bundle;
using MmServe.Runtime.Onnx.CrossAttention;
using MmServe.Runtime.Onnx.Execution;
using MmServe.Serving.Capabilities;

namespace MmServe.Serving;

public sealed partial class OnnxExecutorFactory
{
    /// <summary>A gated cross-attention bundle's executor (host KV; the cross_kv component runs once per request).</summary>
    private OnnxCrossAttentionExecutor CreateCrossAttention(
        int workerIndex, ModelBundle bundle, InferenceSession embed, InferenceSession decoder, SessionFactory sessions, CrossAttentionSpec cross, int maxBatch)
    {
        InferenceSession? crossKv = null;
        try
        {
            crossKv = sessions.Create(bundle.ComponentPath(cross.Component));
            var executor = new OnnxCrossAttentionExecutor(bundle, embed, decoder, crossKv, maxBatch);
            var placement = sessions.Placement;
            placements.Report(new WorkerPlacement(workerIndex, placement.Device, placement.ExecutionProvider, placement.FallbackReason, "host"));
            Log.WorkerPlaced(_logger, model.Id, workerIndex, placement.Device, placement.ExecutionProvider, "host",
                placement.FallbackReason is { } reason ? $"; CPU fallback: {reason}" : string.Empty);
            return executor;
        }
        catch
        {
            crossKv?.Dispose();
            decoder.Dispose();
            throw;
        }
    }
}

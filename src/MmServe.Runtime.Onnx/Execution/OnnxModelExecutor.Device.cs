using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MmServe.Runtime.Onnx.Device;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The device path (chosen once, in the constructor): the embedding output, the KV cache (<see cref="DeviceKvStorage"/>),
/// logits and hidden states are buffers of the decoder's device bound through IOBinding. Per step only the token ids,
/// attention mask and positions go up (ONNX Runtime copies the bound host tensors), media embeddings are written into
/// the device embeddings at their positions, and only the logits rows (and hidden-state rows) the engine reads come down.
/// </summary>
public sealed partial class OnnxModelExecutor
{
    private void EmbedOnDevice(int batch, int seq, CancellationToken ct)
    {
        if (_embed is null)
        {
            return;
        }

        var device = _device!;
        var binding = device.EmbedBinding!;
        var values = new List<OrtValue>(2 + _embedding!.EmptyFeatureInputs.Count);
        try
        {
            var ids = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ids.AsMemory(0, batch * seq), [batch, seq]);
            values.Add(ids);
            binding.BindInput(_embedding.InputIds, ids);
            foreach (var name in _embedding.EmptyFeatureInputs)
            {
                // Feature inputs (Phi-3-V's image_features) get no rows: media embeddings are spliced in afterwards.
                var empty = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, NoPast.AsMemory(0, 0), [0, _hidden]);
                values.Add(empty);
                binding.BindInput(name, empty);
            }

            var embeds = device.View(device.Embeds, batch * seq * _hidden, [batch, seq, _hidden]);
            values.Add(embeds);
            binding.BindOutput(_embedding.InputsEmbeds, embeds);
            device.Run(_embed, binding, _runOptions, ct);
        }
        finally
        {
            binding.ClearBoundInputs();
            binding.ClearBoundOutputs();
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }

    private void RunDecoderOnDevice(int batch, int seq, int pastSlots, KvSet? past, KvSet present, CancellationToken ct)
    {
        var device = _device!;
        var binding = device.DecoderBinding;
        int total = pastSlots + seq;
        var values = new List<OrtValue>(_inputNames.Length + _outputNames.Length);
        try
        {
            values.Add(_decoderTakesIds
                ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ids.AsMemory(0, batch * seq), [batch, seq])
                : device.View(device.Embeds, batch * seq * _hidden, [batch, seq, _hidden]));
            values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _mask.AsMemory(0, batch * total), [batch, total]));
            if (_feedPositions)
            {
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _positions.AsMemory(0, _positionAxes * batch * seq), PositionShape(batch, seq)));
            }

            long[] pastShape = [batch, _kvHeads, pastSlots, _headDim];
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                values.Add(_store.View(past, t, pastShape));
            }

            int inputs = values.Count;
            values.Add(device.View(device.Logits, batch * seq * _vocab, [batch, seq, _vocab]));
            if (_hasHiddenOutput)
            {
                values.Add(device.View(device.HiddenStates, batch * seq * _hidden, [batch, seq, _hidden]));
            }

            long[] presentShape = [batch, _kvHeads, total, _headDim];
            for (int t = 0; t < 2 * _spec.NumLayers; t++)
            {
                values.Add(_store.View(present, t, presentShape));
            }

            for (int i = 0; i < inputs; i++)
            {
                binding.BindInput(_inputNames[i], values[i]);
            }

            for (int i = inputs; i < values.Count; i++)
            {
                binding.BindOutput(_outputNames[i - inputs], values[i]);
            }

            device.Run(_decoder, binding, _runOptions, ct);
        }
        finally
        {
            binding.ClearBoundInputs();
            binding.ClearBoundOutputs();
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }

    /// <summary>The device path's memory, IOBindings and grow-only step buffers (embeddings, logits, hidden states).</summary>
    private sealed class DeviceStep : IDisposable
    {
        public DeviceStep(IDeviceMemory memory, InferenceSession? embed, InferenceSession decoder)
        {
            Memory = memory;
            EmbedBinding = embed?.CreateIoBinding();
            DecoderBinding = decoder.CreateIoBinding();
        }

        public IDeviceMemory Memory { get; }

        public OrtIoBinding? EmbedBinding { get; }

        public OrtIoBinding DecoderBinding { get; }

        public StepBuffer Embeds { get; } = new();

        public StepBuffer Logits { get; } = new();

        public StepBuffer HiddenStates { get; } = new();

        /// <summary>An OrtValue of <paramref name="shape"/> over <paramref name="buffer"/>, grown to <paramref name="elements"/> floats first.</summary>
        public OrtValue View(StepBuffer buffer, int elements, long[] shape)
        {
            buffer.Ensure(Memory, elements);
            return OrtValue.CreateTensorValueWithData(Memory.MemoryInfo, TensorElementType.Float, shape, buffer.Pointer, (long)elements * sizeof(float));
        }

        public void SpliceEmbeddings(int offset, ReadOnlySpan<float> embeddings) => Memory.Upload(embeddings, Embeds.Pointer + (offset * sizeof(float)));

        public void ReadLogits(int offset, Span<float> destination) => Memory.Download(Logits.Pointer + (offset * sizeof(float)), destination);

        public void ReadHiddenStates(int offset, Span<float> destination) => Memory.Download(HiddenStates.Pointer + (offset * sizeof(float)), destination);

        /// <summary>Runs after every copy this executor issued is complete; the outputs are complete when it returns.</summary>
        public void Run(InferenceSession session, OrtIoBinding binding, RunOptions runOptions, CancellationToken ct)
        {
            Memory.Synchronize();
            binding.SynchronizeBoundInputs();
            ct.ThrowIfCancellationRequested();
            session.RunWithBinding(runOptions, binding);
            binding.SynchronizeBoundOutputs();
        }

        public void Dispose()
        {
            Embeds.Dispose();
            Logits.Dispose();
            HiddenStates.Dispose();
            EmbedBinding?.Dispose();
            DecoderBinding.Dispose();
            Memory.Dispose();
        }
    }

    /// <summary>A grow-only device buffer (contents are not kept on growth).</summary>
    private sealed class StepBuffer : IDisposable
    {
        private DeviceBuffer? _buffer;
        private long _capacity;

        public IntPtr Pointer => _buffer?.Pointer ?? throw new InvalidOperationException("step buffer read before it was sized");

        public void Ensure(IDeviceMemory memory, int elements)
        {
            if (_capacity >= elements && _buffer is not null)
            {
                return;
            }

            long grown = Math.Max(Math.Max(elements, 1), _capacity * 3 / 2);
            _buffer?.Dispose();
            _buffer = null;
            _capacity = 0;
            _buffer = memory.Allocate(grown * sizeof(float));
            _capacity = grown;
        }

        public void Dispose() => _buffer?.Dispose();
    }
}

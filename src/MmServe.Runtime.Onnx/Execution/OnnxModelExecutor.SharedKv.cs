using Microsoft.ML.OnnxRuntime;
using MmServe.Abstractions;

namespace MmServe.Runtime.Onnx.Execution;

/// <summary>
/// The shared-buffer path (<see cref="Model.Bundle.DecoderSpec.SharesKvBuffer"/>: GroupQueryAttention with
/// past_present_share_buffer). Each sequence holds a row of <see cref="SharedKvSlots"/> from prefill to release, its KV
/// left-aligned; the decoder reads each row's length from attention_mask (ones = tokens in KV + the new one) and
/// writes the new KV in place. A decode step runs every row below the highest held slot: rows of sequences decoding
/// this step get their token; free rows and held rows that do not decode get a dummy token whose KV lands one past
/// their own (overwritten before it is ever read). New prompts are prefilled right-padded straight into their slots,
/// one run per contiguous range of slots.
/// </summary>
public sealed partial class OnnxModelExecutor
{
    private readonly SharedKvSlots? _shared;
    private readonly SharedDecodeStep? _sharedStep;

    // Per step: which input row decodes in each slot (-1: none).
    private int[] _slotInput = [];

    // The lists passed to a prefill's Run, reused.
    private readonly List<OrtValue> _runInputs = [];
    private readonly List<OrtValue> _runOutputs = [];
    private readonly List<(int Row, int Slot)> _prefillSlots = [];

    private void ForwardShared(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        var shared = _shared!;
        _decodeRows.Clear();
        _prefillRows.Clear();
        for (int r = 0; r < inputs.Count; r++)
        {
            var input = inputs[r];
            if (shared.TryGetSlot(input.SequenceId, out int slot))
            {
                if (input.TokenIds.Length != 1)
                {
                    throw new InvalidOperationException($"sequence {input.SequenceId}: a running sequence takes one token per step");
                }

                if (input.StartPosition != shared.LengthOf(slot) || shared.LengthOf(slot) >= shared.MaxLength)
                {
                    throw new InvalidOperationException(
                        $"sequence {input.SequenceId}: starts at {input.StartPosition} with {shared.LengthOf(slot)} positions in KV (at most {shared.MaxLength})");
                }

                _decodeRows.Add(r);
            }
            else if (input.StartPosition != 0)
            {
                throw new InvalidOperationException($"sequence {input.SequenceId} has no KV state but starts at {input.StartPosition}");
            }
            else
            {
                _prefillRows.Add(r);
            }
        }

        if (_decodeRows.Count > 0)
        {
            DecodeShared(inputs, output, ct);
        }

        if (_prefillRows.Count > 0)
        {
            PrefillShared(inputs, output, ct);
        }
    }

    private void DecodeShared(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        var shared = _shared!;
        var step = _sharedStep!;
        shared.Compact();
        int b = shared.Span;
        Grow(ref _slotInput, b);
        _slotInput.AsSpan(0, b).Fill(-1);
        foreach (int r in _decodeRows)
        {
            shared.TryGetSlot(inputs[r].SequenceId, out int slot);
            _slotInput[slot] = r;
        }

        int width = step.MaxLength;
        for (int slot = 0; slot < b; slot++)
        {
            int r = _slotInput[slot];
            var input = r >= 0 ? inputs[r] : null;
            step.Ids[slot] = input is null ? 0 : input.TokenIds.Span[0];
            for (int axis = 0; axis < _positionAxes; axis++)
            {
                step.Positions[(axis * b) + slot] = input is null ? 0 : input.Positions?.At(axis, input.StartPosition) ?? input.StartPosition;
            }

            // A held row that does not decode writes its dummy KV one past its own; a free row at position 0.
            int ones = shared.OwnerOf(slot) is null ? 1 : Math.Min(shared.LengthOf(slot) + 1, shared.MaxLength);
            var maskRow = step.Mask.AsSpan(slot * width, width);
            maskRow[..ones].Fill(1);
            maskRow[ones..].Clear();
        }

        step.Use(b);
        ct.ThrowIfCancellationRequested();
        step.Run(_runOptions);
        foreach (int r in _decodeRows)
        {
            shared.TryGetSlot(inputs[r].SequenceId, out int slot);
            step.Logits.AsSpan(slot * _vocab, _vocab).CopyTo(output.GetLogits(r));
            if (inputs[r].WantHiddenStates && _hasHiddenOutput)
            {
                var destination = output.GetHiddenStates(r);
                step.HiddenStates.AsSpan(slot * _hidden, destination.Length).CopyTo(destination);
            }

            shared.SetLength(slot, shared.LengthOf(slot) + 1);
        }
    }

    private void PrefillShared(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
    {
        var shared = _shared!;
        _prefillSlots.Clear();
        try
        {
            foreach (int r in _prefillRows)
            {
                if (inputs[r].TokenIds.Length > shared.MaxLength)
                {
                    throw new InvalidOperationException($"sequence {inputs[r].SequenceId}: {inputs[r].TokenIds.Length} prompt tokens exceed the KV buffer's {shared.MaxLength} positions");
                }

                _prefillSlots.Add((r, shared.Acquire(inputs[r].SequenceId)));
            }

            _prefillSlots.Sort(static (x, y) => x.Slot.CompareTo(y.Slot));
            int start = 0;
            for (int i = 1; i <= _prefillSlots.Count; i++)
            {
                if (i == _prefillSlots.Count || _prefillSlots[i].Slot != _prefillSlots[i - 1].Slot + 1)
                {
                    PrefillSlotRange(inputs, output, start, i - start, ct);
                    start = i;
                }
            }
        }
        catch
        {
            // A failed or cancelled prefill leaves no sequence holding a slot it never filled.
            foreach (var (r, _) in _prefillSlots)
            {
                shared.Release(inputs[r].SequenceId);
            }

            throw;
        }
    }

    /// <summary>Prefills the sequences of <c>_prefillSlots[first .. first + count)</c>, whose slots are consecutive, in one run.</summary>
    private void PrefillSlotRange(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, int first, int count, CancellationToken ct)
    {
        var shared = _shared!;
        int len = 0;
        for (int i = 0; i < count; i++)
        {
            len = Math.Max(len, inputs[_prefillSlots[first + i].Row].TokenIds.Length);
        }

        Grow(ref _ids, count * len);
        Grow(ref _positions, _positionAxes * count * len);
        Grow(ref _mask, count * len);
        for (int i = 0; i < count; i++)
        {
            var input = inputs[_prefillSlots[first + i].Row];
            var tokens = input.TokenIds.Span;
            var ids = _ids.AsSpan(i * len, len);
            var mask = _mask.AsSpan(i * len, len);
            for (int j = 0; j < tokens.Length; j++)
            {
                ids[j] = tokens[j];
            }

            ids[tokens.Length..].Clear();
            mask[..tokens.Length].Fill(1);
            mask[tokens.Length..].Clear();
            for (int axis = 0; axis < _positionAxes; axis++)
            {
                var pos = _positions.AsSpan(((axis * count) + i) * len, len);
                for (int j = 0; j < tokens.Length; j++)
                {
                    pos[j] = input.Positions?.At(axis, j) ?? j;
                }

                pos[tokens.Length..].Clear();
            }
        }

        Embed(count, len, ct);
        for (int i = 0; i < count; i++)
        {
            SpliceMedia(inputs[_prefillSlots[first + i].Row], (i * len) * _hidden);
        }

        var views = new OrtValue[2 * _spec.NumLayers];
        try
        {
            for (int t = 0; t < views.Length; t++)
            {
                views[t] = shared.View(t, _prefillSlots[first].Slot, count);
            }

            RunSharedDecoder(count, len, len, views, ct);
        }
        finally
        {
            foreach (var view in views)
            {
                view?.Dispose();
            }
        }

        for (int i = 0; i < count; i++)
        {
            var (r, slot) = _prefillSlots[first + i];
            var input = inputs[r];
            int n = input.TokenIds.Length;
            ReadLogits((i * len) + n - 1, output.GetLogits(r));
            if (input.WantHiddenStates && _hasHiddenOutput)
            {
                ReadHiddenStates(i * len, output.GetHiddenStates(r)[..(n * _hidden)]);
            }

            shared.SetLength(slot, n);
        }
    }

    /// <summary>
    /// One decoder run with <paramref name="kv"/> bound as both past and present (the same memory: ORT's
    /// GroupQueryAttention sees equal pointers and appends in place).
    /// </summary>
    private void RunSharedDecoder(int batch, int seq, int total, OrtValue[] kv, CancellationToken ct)
    {
        Grow(ref _logits, batch * seq * _vocab);
        Grow(ref _hiddenStates, batch * seq * _hidden);
        _runInputs.Clear();
        _runOutputs.Clear();
        using var tokens = _decoderTakesIds
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ids.AsMemory(0, batch * seq), [batch, seq])
            : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _embeds.AsMemory(0, batch * seq * _hidden), [batch, seq, _hidden]);
        using var mask = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _mask.AsMemory(0, batch * total), [batch, total]);
        using var positions = _feedPositions
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _positions.AsMemory(0, _positionAxes * batch * seq), PositionShape(batch, seq))
            : null;
        using var logits = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _logits.AsMemory(0, batch * seq * _vocab), [batch, seq, _vocab]);
        using var hidden = _hasHiddenOutput
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _hiddenStates.AsMemory(0, batch * seq * _hidden), [batch, seq, _hidden])
            : null;
        _runInputs.Add(tokens);
        _runInputs.Add(mask);
        if (positions is not null)
        {
            _runInputs.Add(positions);
        }

        _runInputs.AddRange(kv);
        _runOutputs.Add(logits);
        if (hidden is not null)
        {
            _runOutputs.Add(hidden);
        }

        _runOutputs.AddRange(kv);
        ct.ThrowIfCancellationRequested();
        _decoder.Run(_runOptions, _inputNames, _runInputs, _outputNames, _runOutputs);
    }
}

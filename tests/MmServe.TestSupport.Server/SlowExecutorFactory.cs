using MmServe.Abstractions;

namespace MmServe.TestSupport.Server;

/// <summary>Wraps the real executors so every forward pass takes at least <paramref name="delay"/> longer.</summary>
public sealed class SlowExecutorFactory(IModelExecutorFactory inner, TimeSpan delay) : IModelExecutorFactory
{
    public IModelExecutor Create(int workerIndex) => new SlowExecutor(inner.Create(workerIndex), delay);

    private sealed class SlowExecutor(IModelExecutor inner, TimeSpan delay) : IModelExecutor
    {
        public ExecutorInfo Info => inner.Info;

        public void Forward(IReadOnlyList<SequenceInput> inputs, ForwardOutput output, CancellationToken ct)
        {
            ct.WaitHandle.WaitOne(delay);
            inner.Forward(inputs, output, ct);
        }

        public void Release(long sequenceId) => inner.Release(sequenceId);

        public void Dispose() => inner.Dispose();
    }
}

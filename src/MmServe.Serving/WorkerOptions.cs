namespace MmServe.Serving;

/// <summary>One engine worker (one entry of the "Workers" list): where its model sessions run.</summary>
public sealed class WorkerOptions
{
    /// <summary>"cpu", "cuda" or "cuda:N"; CUDA falls back to CPU with a warning when it is not available.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>ONNX Runtime threads per operator; 0 lets ONNX Runtime use all cores.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Let ONNX Runtime's operator threads spin while waiting for work (ORT's default).</summary>
    public bool AllowSpinning { get; set; } = true;
}

/// <summary>The "Workers" list; one engine worker per entry, a single CPU worker when the list is absent.</summary>
public sealed class WorkerPoolOptions
{
    public const string SectionName = "Workers";

    public IReadOnlyList<WorkerOptions> Workers { get; set; } = [new WorkerOptions()];
}

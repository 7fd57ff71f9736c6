namespace MmServe.Api.Serving;

/// <summary>Set once the warm-up generation has completed; /health/ready reports it.</summary>
internal sealed class ModelReadiness
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;
}

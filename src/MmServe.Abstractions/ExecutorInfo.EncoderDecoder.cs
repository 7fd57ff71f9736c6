namespace MmServe.Abstractions;

public sealed partial record ExecutorInfo
{
    /// <summary>
    /// Set for an encoder-decoder executor: the width its decoder expects of <see cref="SequenceInput.Encoder"/>
    /// rows. Null for a decoder-only executor, which takes no encoder output.
    /// </summary>
    public int? EncoderWidth { get; init; }

    public bool IsEncoderDecoder => EncoderWidth is not null;
}

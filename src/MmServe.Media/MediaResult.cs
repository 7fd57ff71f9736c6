using System.Diagnostics.CodeAnalysis;

namespace MmServe.Media;

/// <summary>
/// Either a value or a <see cref="MediaError"/>. Hostile or broken client input is an expected outcome,
/// so it travels as a value instead of an exception.
/// </summary>
public sealed class MediaResult<T>
{
    private MediaResult(T? value, MediaError? error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The value; non-null exactly when <see cref="IsSuccess"/> is true.</summary>
    public T? Value { get; }

    /// <summary>The error; non-null exactly when <see cref="IsSuccess"/> is false.</summary>
    public MediaError? Error { get; }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public static MediaResult<T> Success(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new MediaResult<T>(value, null);
    }

    public static MediaResult<T> Failure(MediaError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new MediaResult<T>(default, error);
    }

    public static implicit operator MediaResult<T>(MediaError error) => Failure(error);

    public static implicit operator MediaResult<T>(T value) => Success(value);

    public override string ToString() => IsSuccess ? $"Success({Value})" : $"Failure({Error.Code}: {Error.Message})";
}

using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using MmServe.Api.Errors;

namespace MmServe.Api.OpenAi.Audio;

/// <summary>
/// A multipart/form-data upload read strictly: text fields must be UTF-8 (ASP.NET Core's form reader would turn bad
/// bytes into U+FFFD and pass them on as the client's text), the first file field is kept as bytes. The body size is
/// bounded by Kestrel's MaxRequestBodySize; counts and lengths of the other parts by ASP.NET Core's form defaults.
/// </summary>
internal sealed class UploadForm
{
    private const int MaxFields = 1024;
    private const int MaxFieldBytes = 4 * 1024 * 1024;
    private const int MaxBoundaryLength = 70;

    private readonly Dictionary<string, List<string>> _fields = new(StringComparer.OrdinalIgnoreCase);

    private UploadForm()
    {
    }

    public UploadedFile? File { get; private set; }

    /// <summary>A text field's value ("" when absent; several values joined by commas, as StringValues prints them).</summary>
    public string this[string name] => _fields.TryGetValue(name, out var values) ? string.Join(',', values) : "";

    /// <returns>The form, or an <see cref="ApiError"/> naming the unreadable part.</returns>
    /// <exception cref="BadHttpRequestException">The body is over Kestrel's limit (the error middleware answers 413).</exception>
    public static async Task<(UploadForm? Form, ApiError? Error)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Unreadable());
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength)
        {
            return (null, Unreadable());
        }

        var form = new UploadForm();
        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            int fields = 0;
            while (await reader.ReadNextSectionAsync(ct).ConfigureAwait(false) is { } section)
            {
                if (++fields > MaxFields
                    || !ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    return (null, Unreadable());
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                var bytes = await ReadAllAsync(section.Body, disposition.IsFileDisposition() ? long.MaxValue : MaxFieldBytes, ct).ConfigureAwait(false);
                if (bytes is null)
                {
                    return (null, Unreadable());
                }

                if (disposition.IsFileDisposition())
                {
                    form.File ??= name == "file" ? new UploadedFile(section.ContentType ?? "", bytes) : null;
                }
                else if (!System.Text.Unicode.Utf8.IsValid(bytes))
                {
                    return (null, ApiError.InvalidUtf8(name));
                }
                else
                {
                    form.Add(name, Encoding.UTF8.GetString(bytes));
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException || (e is IOException && !ct.IsCancellationRequested))
        {
            // InvalidDataException: malformed boundaries or headers; IOException: the body ended inside a section.
            return (null, Unreadable());
        }

        return (form, null);
    }

    private void Add(string name, string value)
    {
        if (!_fields.TryGetValue(name, out var values))
        {
            _fields[name] = values = [];
        }

        values.Add(value);
    }

    /// <returns>The section's bytes, or null when there are more than <paramref name="limit"/>.</returns>
    private static async Task<byte[]?> ReadAllAsync(Stream body, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static ApiError Unreadable() =>
        ApiError.InvalidRequest("The multipart/form-data body could not be read.", "file", "invalid_form");
}

/// <summary>The uploaded "file": its declared content type (a label only) and its bytes.</summary>
internal sealed record UploadedFile(string ContentType, byte[] Bytes);

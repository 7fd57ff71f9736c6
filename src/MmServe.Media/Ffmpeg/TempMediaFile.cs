namespace MmServe.Media.Ffmpeg;

/// <summary>
/// Client bytes written to a file of our own naming inside a fresh private directory. The tools only ever
/// see this path: never a client-supplied URL or name, and never stdin, whose protocol handling the client
/// could influence.
/// </summary>
internal sealed class TempMediaFile : IDisposable
{
    private TempMediaFile(string directory)
    {
        Directory = directory;

        // No extension: ffmpeg's probing gives extensions weight, and the bytes alone should decide.
        Path = System.IO.Path.Combine(directory, "input");
    }

    public string Directory { get; }

    public string Path { get; }

    /// <summary>The tools take URLs; the explicit scheme stops any part of the path being read as another protocol.</summary>
    public string Url => "file:" + Path;

    /// <summary>
    /// Names start with this and the process id, so leftovers of a crashed server can be told apart from
    /// the live directories of another server process sharing the temp folder.
    /// </summary>
    public static string DirectoryPrefix { get; } = $"mmserve-ffmpeg-{Environment.ProcessId}-";

    public static async Task<TempMediaFile> WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        // Created with mode 0700 on Unix, so other local users can neither read client media nor swap the file.
        var file = new TempMediaFile(System.IO.Directory.CreateTempSubdirectory(DirectoryPrefix).FullName);
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
            };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var stream = new FileStream(file.Path, options);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover 0700 directory in the temp folder is not worth failing the request for.
        }
    }
}

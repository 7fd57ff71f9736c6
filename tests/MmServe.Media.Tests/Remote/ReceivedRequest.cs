namespace MmServe.Media.Tests.Remote;

/// <summary>The request line and headers a <see cref="LocalHttpServer"/> received (header names lower-cased).</summary>
internal sealed record ReceivedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers);

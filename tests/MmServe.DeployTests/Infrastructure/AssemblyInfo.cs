// The publish test runs `dotnet publish` and a server process, the others start in-process servers: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MmServe.Api.Auth;

/// <summary>
/// Builds the <see cref="ApiKeyStore"/> from "Auth": the keys in configuration and the lines of Auth:ApiKeysFile.
/// Every problem is reported with the setting or file line it is on, never with the key.
/// </summary>
internal static class ApiKeyLoader
{
    public static (ApiKeyStore? Store, IReadOnlyList<string> Errors) Load(ApiKeyOptions options, string contentRoot)
    {
        var errors = new List<string>();
        var entries = new List<(ApiKeyEntry Entry, string Where)>();
        for (int i = 0; i < options.ApiKeys.Count; i++)
        {
            Add(ApiKeyEntry.Parse(options.ApiKeys[i] ?? "", $"{ApiKeyOptions.SectionName}:ApiKeys:{i}"), $"{ApiKeyOptions.SectionName}:ApiKeys:{i}");
        }

        if (!string.IsNullOrWhiteSpace(options.ApiKeysFile))
        {
            ReadFile(Path.Combine(contentRoot, options.ApiKeysFile));
        }

        foreach (var group in entries.GroupBy(e => e.Entry.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add($"{string.Join(" and ", group.Select(e => e.Where))} have the same name '{group.Key}'; names must be unique.");
        }

        foreach (var group in entries.GroupBy(e => Convert.ToHexString(e.Entry.Hash)).Where(g => g.Count() > 1))
        {
            errors.Add($"{string.Join(" and ", group.Select(e => e.Where))} are the same key.");
        }

        return errors.Count == 0 && entries.Count > 0
            ? (new ApiKeyStore([.. entries.Select(e => e.Entry)]), errors)
            : (null, errors);

        void Add((ApiKeyEntry? Entry, string? Error) parsed, string where)
        {
            if (parsed.Error is not null)
            {
                errors.Add(parsed.Error);
            }
            else
            {
                entries.Add((parsed.Entry!, where));
            }
        }

        void ReadFile(string path)
        {
            string setting = $"{ApiKeyOptions.SectionName}:ApiKeysFile";
            string[] lines;
            try
            {
                lines = File.ReadAllLines(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"{setting}: cannot read '{path}' ({e.GetType().Name}).");
                return;
            }

            int before = entries.Count;
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length > 0 && !line.StartsWith('#'))
                {
                    Add(ApiKeyEntry.Parse(line, $"{setting} line {i + 1}"), $"{setting} line {i + 1}");
                }
            }

            if (entries.Count == before && errors.Count == 0)
            {
                // An empty secret would lock every client out; more likely the wrong file was mounted.
                errors.Add($"{setting}: '{path}' holds no keys.");
            }
        }
    }
}

using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace MmServe.Api.Hosting;

/// <summary>
/// Binds a configuration section the way MmServe's settings want it: a key that names no setting (a typo) and a
/// value that does not convert ("many" for a number) both stop the start. Either becomes an
/// <see cref="OptionsValidationException"/> whose message names the full key, which <see cref="StartupFailure"/> prints
/// as one line; the binder's own exceptions would name only a CLR type and end in a stack trace.
/// </summary>
internal static class StrictConfiguration
{
    /// <summary>Options bound from <paramref name="section"/> strictly, in place of BindConfiguration.</summary>
    public static OptionsBuilder<T> BindStrictly<T>(this OptionsBuilder<T> builder, string section)
        where T : class =>
        builder.Configure<IConfiguration>((options, configuration) => Bind(configuration.GetSection(section), options));

    /// <summary>Binds <paramref name="section"/> onto <paramref name="options"/>; nothing happens when it is absent.</summary>
    public static void Bind<T>(IConfigurationSection section, T options)
        where T : class
    {
        ThrowOnUnknownKey(section, typeof(T));
        Convert<T>(section.Path, () => section.Bind(options, b => b.ErrorOnUnknownConfiguration = true));
    }

    /// <summary>The section as a list of <typeparamref name="T"/> ("Workers", "Models"); null when it is absent.</summary>
    public static List<T>? GetList<T>(IConfigurationSection section)
    {
        if (!section.Exists())
        {
            return null;
        }

        foreach (var item in section.GetChildren())
        {
            ThrowOnUnknownKey(item, typeof(T));
        }

        List<T>? list = null;
        Convert<List<T>>(section.Path, () => list = section.Get<List<T>>(b => b.ErrorOnUnknownConfiguration = true));
        return list;
    }

    /// <summary>A single value such as "Telemetry:Enabled"; a value that does not convert stops the start naming the key.</summary>
    public static T GetValue<T>(IConfiguration configuration, string key, T defaultValue)
    {
        T value = defaultValue;
        Convert<T>(key, () => value = configuration.GetValue(key, defaultValue)!);
        return value;
    }

    private static void Convert<T>(string path, Action bind)
    {
        try
        {
            bind();
        }
        catch (InvalidOperationException e)
        {
            // The binder nests its reasons ("binding has failed" → "Failed to convert configuration value 'many' at
            // 'Engine:MaxQueuedRequests' to type 'System.Int32'."); the innermost one of its own names the key.
            var reason = e;
            while (reason.InnerException is InvalidOperationException inner)
            {
                reason = inner;
            }

            throw new OptionsValidationException(path, typeof(T), [reason.Message]);
        }
    }

    /// <summary>The first key under <paramref name="section"/> that no property of <paramref name="type"/> (or of its parts) takes.</summary>
    private static void ThrowOnUnknownKey(IConfigurationSection section, Type type)
    {
        if (IsScalar(type) || DictionaryValueType(type) is not null)
        {
            return; // values convert or fail in the binder; a dictionary takes any key
        }

        if (ElementType(type) is { } element)
        {
            foreach (var item in section.GetChildren())
            {
                ThrowOnUnknownKey(item, element);
            }

            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(IsBindable).ToArray();
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var known = string.Join(", ", properties.Select(p => p.Name));
                throw new OptionsValidationException(section.Path, type, [$"{child.Path} is not a setting ({Describe(section)} takes {known})."]);
            }

            ThrowOnUnknownKey(child, property.PropertyType);
        }
    }

    /// <summary>
    /// A property configuration can set: one with a public setter, or a get-only one holding a mutable object the
    /// binder fills in place. Computed get-only values ("Enabled") are not settings and are not listed as such.
    /// </summary>
    private static bool IsBindable(PropertyInfo property) =>
        property.GetIndexParameters().Length == 0
        && (property.SetMethod is { IsPublic: true } || (!IsScalar(property.PropertyType) && !property.PropertyType.IsInterface));

    private static string Describe(IConfigurationSection section) =>
        int.TryParse(section.Key, out _) ? $"an entry of {section.Path[..section.Path.LastIndexOf(':')]}" : section.Path;

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);
    }

    private static Type? ElementType(Type type) =>
        type.IsArray
            ? type.GetElementType()
            : typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType && type.GetGenericArguments() is [var element] ? element : null;

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericArguments() is [_, var value] && typeof(IEnumerable).IsAssignableFrom(type) ? value : null;
}

namespace MmServe.Model.Chat.Jinja;

/// <summary>A variable scope. For loops and macro calls open one; if and set do not (as in the reference).</summary>
internal sealed class Scope(Scope? parent = null)
{
    private readonly Scope? parent = parent;

    private readonly Dictionary<string, object> variables = new(StringComparer.Ordinal);

    public void Set(string name, object value) => variables[name] = value;

    public object Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.parent)
        {
            if (scope.variables.TryGetValue(name, out var value))
            {
                return value;
            }
        }

        return Undefined.Instance;
    }
}

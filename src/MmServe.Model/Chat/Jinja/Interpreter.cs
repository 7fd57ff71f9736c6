using System.Runtime.CompilerServices;
using System.Text;

namespace MmServe.Model.Chat.Jinja;

/// <summary>Evaluates the syntax tree with @huggingface/jinja's semantics (JavaScript-flavoured where it differs from Python Jinja).</summary>
internal sealed partial class Interpreter(SourceText source)
{
    // Deep enough for any real template, shallow enough to fail cleanly instead of overflowing the stack.
    private const int MaxCallDepth = 100;

    private int callDepth;

    private sealed class BreakSignal : Exception;

    private sealed class ContinueSignal : Exception;

    public string Render(List<Node> body, Scope environment) => EvaluateBlock(body, environment);

    private string EvaluateBlock(List<Node> statements, Scope environment)
    {
        var output = new StringBuilder();
        foreach (var statement in statements)
        {
            object value;
            try
            {
                GuardStack();
                value = Execute(statement, environment);
            }
            catch (TemplateException e) when (e.Line == 0 && e is not TemplateRaisedException)
            {
                // Locate a rendering error at the innermost tag being rendered.
                throw source.Error(e.Reason, statement.Position, e);
            }
            catch (Exception e) when (e is not (TemplateException or BreakSignal or ContinueSignal))
            {
                throw source.Error($"Internal error while rendering: {e.Message}", statement.Position, e);
            }

            if (value is not (NoneValue or Undefined))
            {
                output.Append(Values.Display(value));
            }
        }

        return output.ToString();
    }

    internal static void GuardStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new TemplateException("Template nests too deeply");
        }
    }

    private object Execute(Node node, Scope environment) => node switch
    {
        TextNode text => text.Text,
        CommentNode => NoneValue.Instance,
        OutputNode output => Evaluate(output.Expression, environment),
        IfNode ifNode => EvaluateBlock(Values.Truthy(Evaluate(ifNode.Test, environment)) ? ifNode.Body : ifNode.Alternate, environment),
        ForNode forNode => ExecuteFor(forNode, environment),
        SetNode set => ExecuteSet(set, environment),
        MacroNode macro => DefineMacro(macro, environment),
        CallBlockNode call => ExecuteCallBlock(call, environment),
        FilterBlockNode filter => ExecuteFilterBlock(filter, environment),
        BreakNode => throw new BreakSignal(),
        ContinueNode => throw new ContinueSignal(),
        _ => Evaluate(node, environment),
    };

    private object ExecuteSet(SetNode node, Scope environment)
    {
        object value = node.Value is not null ? Evaluate(node.Value, environment) : EvaluateBlock(node.Body, environment);
        switch (node.Target)
        {
            case Identifier id:
                environment.Set(id.Name, value);
                break;
            case TupleLiteral tuple:
                var items = value is ListValue list ? list.Items : throw new TemplateException($"Cannot unpack non-iterable type in set: {Values.TypeName(value)}");
                if (items.Count != tuple.Items.Count)
                {
                    throw new TemplateException($"Too {(tuple.Items.Count > items.Count ? "few" : "many")} items to unpack in set");
                }

                for (int i = 0; i < items.Count; i++)
                {
                    environment.Set(tuple.Items[i] is Identifier name ? name.Name : throw new TemplateException("Cannot unpack to non-identifier in set"), items[i]);
                }

                break;
            case MemberNode { Property: Identifier property } member:
                if (Evaluate(member.Target, environment) is not DictValue { Kind: DictKind.Namespace } ns)
                {
                    throw new TemplateException("cannot assign attribute on non-namespace object");
                }

                ns.Items[property.Name] = value;
                break;
            default:
                throw new TemplateException("Invalid target of set");
        }

        return NoneValue.Instance;
    }

    private string ExecuteFor(ForNode node, Scope environment)
    {
        var scope = new Scope(environment);
        Node iterableNode = node.Iterable;
        Node? test = null;
        if (node.Iterable is SelectNode select)
        {
            iterableNode = select.Value;
            test = select.Condition;
        }

        var iterable = Evaluate(iterableNode, scope);
        List<object> source = iterable switch
        {
            ListValue list => list.Items,
            DictValue { IsMapping: true } dict => [.. dict.Items.Keys],
            _ => throw new TemplateException($"Expected iterable or object type in for loop: got {Values.TypeName(iterable)}"),
        };

        var items = new List<object>();
        foreach (var item in source)
        {
            if (test is not null)
            {
                var loopScope = new Scope(scope);
                Bind(node.Target, item, loopScope);
                if (!Values.Truthy(Evaluate(test, loopScope)))
                {
                    continue;
                }
            }
            else
            {
                // Validates unpacking eagerly, as the reference does before the first iteration.
                Bind(node.Target, item, new Scope());
            }

            items.Add(item);
        }

        var output = new StringBuilder();
        bool iterated = false;
        for (int i = 0; i < items.Count; i++)
        {
            var loop = new OrderedDictionary<string, object>
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
            };
            scope.Set("loop", new DictValue(loop));
            Bind(node.Target, items[i], scope);
            try
            {
                output.Append(EvaluateBlock(node.Body, scope));
            }
            catch (ContinueSignal)
            {
                continue;
            }
            catch (BreakSignal)
            {
                break;
            }

            iterated = true;
        }

        if (!iterated)
        {
            output.Append(EvaluateBlock(node.Otherwise, scope));
        }

        return output.ToString();
    }

    private static void Bind(Node target, object value, Scope scope)
    {
        if (target is Identifier id)
        {
            scope.Set(id.Name, value);
            return;
        }

        var names = ((TupleLiteral)target).Items;
        if (value is not ListValue { IsTuple: false } list)
        {
            throw new TemplateException($"Cannot unpack non-iterable type: {Values.TypeName(value)}");
        }

        if (names.Count != list.Items.Count)
        {
            throw new TemplateException($"Too {(names.Count > list.Items.Count ? "few" : "many")} items to unpack");
        }

        for (int i = 0; i < names.Count; i++)
        {
            scope.Set(names[i] is Identifier name ? name.Name : throw new TemplateException("Cannot unpack non-identifier type"), list.Items[i]);
        }
    }

    private object DefineMacro(MacroNode node, Scope environment)
    {
        var special = SpecialArguments(node.Parameters, node.Body);
        environment.Set(node.Name, new FunctionValue((args, callScope) =>
        {
            if (callDepth >= MaxCallDepth)
            {
                throw new TemplateException($"Macro calls nested deeper than {MaxCallDepth}");
            }

            // Macros see the caller's scope (dynamic scoping, as in the reference), which is how `caller` reaches them.
            var scope = new Scope(callScope);
            BindArguments($"'{node.Name}'", node.Parameters, special, args, scope);
            callDepth++;
            try
            {
                return EvaluateBlock(node.Body, scope);
            }
            finally
            {
                callDepth--;
            }
        }));
        return NoneValue.Instance;
    }

    private object ExecuteCallBlock(CallBlockNode node, Scope environment)
    {
        var special = SpecialArguments(node.CallerParameters, node.Body);
        var caller = new FunctionValue((args, _) =>
        {
            var scope = new Scope(environment);
            BindArguments("None", node.CallerParameters, special, args, scope);
            return EvaluateBlock(node.Body, scope);
        });
        var (args, keywords) = EvaluateArguments(node.Call.Arguments, environment);
        args.Add(new DictValue(keywords, DictKind.KeywordArguments));
        var callee = Evaluate(node.Call.Callee, environment);
        if (callee is not FunctionValue function)
        {
            throw new TemplateException($"Cannot call something that is not a function: got {Values.TypeName(callee)}");
        }

        var callScope = new Scope(environment);
        callScope.Set("caller", caller);
        return function.Invoke(args, callScope);
    }

    private object ExecuteFilterBlock(FilterBlockNode node, Scope environment)
    {
        if (node.Unsupported is { } error)
        {
            throw source.Error(error, node.Position);
        }

        return ApplyFilter(EvaluateBlock(node.Body, environment), node.Name, node.Arguments, environment);
    }

    /// <summary>Binds call arguments to parameters: positional, then keyword, then defaults; extra ones go to varargs/kwargs if the body uses them.</summary>
    private void BindArguments(string displayName, List<Node> parameters, (bool Kwargs, bool Varargs) special, List<object> args, Scope scope)
    {
        var positional = new List<object>(args);
        var keywords = new OrderedDictionary<string, object>();
        if (positional.Count > 0 && positional[^1] is DictValue { Kind: DictKind.KeywordArguments } kw)
        {
            keywords = new OrderedDictionary<string, object>(kw.Items);
            positional.RemoveAt(positional.Count - 1);
        }

        var pendingDefaults = new List<KeywordArgument>();
        for (int i = 0; i < parameters.Count; i++)
        {
            string name = ParameterName(parameters[i]);
            object? value = i < positional.Count ? positional[i] : null;
            if (value is null && keywords.Remove(name, out var keyword))
            {
                value = keyword;
            }

            if (value is null && parameters[i] is KeywordArgument withDefault)
            {
                pendingDefaults.Add(withDefault);
            }

            scope.Set(name, value ?? Undefined.Instance);
        }

        if (special.Kwargs)
        {
            scope.Set("kwargs", new DictValue(keywords));
        }
        else if (keywords.Count > 0)
        {
            throw new TemplateException($"macro {displayName} takes no keyword argument '{keywords.GetAt(0).Key}'");
        }

        if (special.Varargs)
        {
            scope.Set("varargs", new ListValue([.. positional.Skip(parameters.Count)]));
        }
        else if (positional.Count > parameters.Count)
        {
            throw new TemplateException($"macro {displayName} takes not more than {parameters.Count} argument(s)");
        }

        foreach (var parameter in pendingDefaults)
        {
            scope.Set(parameter.Name, Evaluate(parameter.Value, scope));
        }
    }

    /// <summary>kwargs and varargs are only collected when the body mentions them and no parameter takes the name.</summary>
    private static (bool Kwargs, bool Varargs) SpecialArguments(List<Node> parameters, List<Node> body) =>
        (References(body, "kwargs") && !parameters.Any(p => ParameterName(p) == "kwargs"),
         References(body, "varargs") && !parameters.Any(p => ParameterName(p) == "varargs"));

    private static string ParameterName(Node parameter) => parameter is KeywordArgument kw ? kw.Name : ((Identifier)parameter).Name;

    /// <summary>Whether a macro body mentions a name (kwargs/varargs are only collected when the body uses them).</summary>
    private static bool References(IEnumerable<Node> nodes, string name) => nodes.Any(n => References(n, name));

    private static bool References(Node? node, string name) => node switch
    {
        null => false,
        Identifier id => id.Name == name,
        OutputNode o => References(o.Expression, name),
        IfNode i => References(i.Test, name) || References(i.Body, name) || References(i.Alternate, name),
        ForNode f => References(f.Iterable, name) || References(f.Body, name) || References(f.Otherwise, name),
        SetNode s => References(s.Value, name) || References(s.Body, name),
        MacroNode m => References(m.Body, name),
        CallBlockNode c => References(c.Call, name) || References(c.Body, name),
        FilterBlockNode f => References(f.Body, name) || (f.Arguments is not null && References(f.Arguments, name)),
        SpreadArgument s => References(s.Value, name),
        KeywordSpreadArgument k => References(k.Value, name),
        ListLiteral l => References(l.Items, name),
        TupleLiteral t => References(t.Items, name),
        DictLiteral d => d.Entries.Any(e => References(e.Key, name) || References(e.Value, name)),
        MemberNode m => References(m.Target, name) || (m.Computed && References(m.Property, name)),
        SliceNode s => References(s.Start, name) || References(s.Stop, name) || References(s.Step, name),
        CallNode c => References(c.Callee, name) || References(c.Arguments, name),
        KeywordArgument k => References(k.Value, name),
        BinaryNode b => References(b.Left, name) || References(b.Right, name),
        UnaryNode u => References(u.Operand, name),
        FilterNode f => References(f.Operand, name) || (f.Arguments is not null && References(f.Arguments, name)),
        TestNode t => References(t.Operand, name),
        TernaryNode t => References(t.Condition, name) || References(t.WhenTrue, name) || References(t.WhenFalse, name),
        SelectNode s => References(s.Value, name) || References(s.Condition, name),
        _ => false,
    };
}

using MmServe.Engine.Constraints;
using MmServe.Model.Chat;

namespace MmServe.Serving.Tools;

/// <summary>
/// What a request's tools mean for its generation: the functions the template shows the model, whether the
/// output is read for calls (not with tool_choice "none"), the model's call format, and for "required" or a named
/// function the grammar that forces a call.
/// </summary>
public sealed record ToolPlan(IReadOnlyList<ChatTool> Tools, bool ReadsCalls, ToolCallFormat Format, TokenConstraint? Forced);

"""Tool-calling tasks over the synthetic world (the survey's cascade pattern: the LLM calls a vision or audio tool,
the client runs it, the LLM answers from its result), rendered exactly as the server renders them.

The sibling bundle mmserve-tiny-tools declares in its manifest how tools and calls are written (chat_template.tools,
docs/model-bundle.md): the offered functions as one leading system message "Tools: name(param), ...", an assistant's
call as `<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>` (Hermes; the JSON in Python's json.dumps
form), a tool result as a "tool" message holding the result text. The tools themselves run on the world's ground
truth (a scene's objects), as the stand-ins for the vision and audio models a cascade would call.
"""
from __future__ import annotations

import json
import re

from . import tasks as T
from . import world as W

TOOLS_PREFIX = "Tools: "
CALL_FORMAT = "<tool_call>\n{call}\n</tool_call>"
NO_TOOL = "I have no tool for that."

# name -> (parameter, allowed values, description); the schema the C# tests send is built from the same table
TOOLS = {
    "count_shapes": ("color", W.COLOUR_NAMES, "Counts the shapes of one colour in the image."),
    "zoom": ("region", W.QUADRANTS, "Looks closely at one quadrant of the image and says what is there."),
    "play_tone": ("pitch", W.PITCH_NAMES, "Plays a tone at a pitch."),
}
TOOL_NAMES = list(TOOLS)


def tool_schema(name: str) -> dict:
    param, values, description = TOOLS[name]
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": {param: {"type": "string", "enum": list(values)}}, "required": [param]}}}


def tools_line(names: list[str]) -> str:
    """The system message the manifest's chat_template.tools renders: each function as name(parameters)."""
    return TOOLS_PREFIX + ", ".join(f"{n}({TOOLS[n][0]})" for n in names)


def call_text(name: str, arguments: dict) -> str:
    return CALL_FORMAT.format(call=json.dumps({"name": name, "arguments": arguments}))


_CALL_RE = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.S)


def parse_calls(text: str) -> list[tuple[str, dict]]:
    """Calls in a generated answer (what the server's Hermes reader extracts); unparsable blocks are dropped."""
    calls = []
    for body in _CALL_RE.findall(text):
        try:
            j = json.loads(body)
            calls.append((j["name"], j["arguments"]))
        except (ValueError, KeyError, TypeError):
            pass
    return calls


# ------------------------------------------------------------------ the tools, run on the world
def run_tool(name: str, arguments: dict, objs) -> dict:
    """What the client's tool returns; the C# tests compute the same from the scene in the held-out file."""
    if name == "count_shapes":
        return {"count": sum(o.colour == arguments["color"] for o in objs)}
    if name == "zoom":
        here = [o for o in objs if W.QUADRANTS[o.quadrant] == arguments["region"]]
        return {"objects": " and ".join(f"{o.size} {o.colour} {o.shape}" for o in here) or "nothing"}
    return {"played": arguments["pitch"]}


def result_text(rng, result: dict) -> str:
    """Result as clients send it: System.Text.Json's compact form (Microsoft.Extensions.AI), json.dumps' spaced form,
    or a bare count."""
    r = rng.random()
    if "count" in result and r < 0.15:
        return str(result["count"])
    return json.dumps(result) if r < 0.4 else json.dumps(result, separators=(",", ":"))


def shown(text: str) -> str:
    """A tool result as the template shows it (chat_template.tools): JSON re-written in json.dumps form, else as sent."""
    try:
        return json.dumps(json.loads(text))
    except ValueError:
        return text


def as_served(s: T.Sample) -> T.Sample:
    """The sample as the server renders it. Training used the results as clients send them (compact, spaced, bare);
    the server shows JSON results in one form (the spaced one), whatever the client's serializer wrote."""
    turns = [(role, [(k, shown(v)) for k, v in parts] if role == "tool" else parts) for role, parts in s.turns]
    return T.Sample(s.task, turns, s.answer, s.gen, s.meta)


def final_answer(name: str, arguments: dict, result: dict) -> str:
    if name == "count_shapes":
        n, c = result["count"], arguments["color"]
        if n == 0:
            return f"There are no {c} shapes."
        return f"There is one {c} shape." if n == 1 else f"There are {T.number(n)} {c} shapes."
    if name == "zoom":
        return "There is nothing there." if result["objects"] == "nothing" else f"I see a {result['objects']}."
    return f"I played a {result['played']} tone."


def question(rng, name: str, value: str) -> str:
    if name == "count_shapes":
        return T.pick(rng, [f"How many {value} shapes are there?", f"Count the {value} shapes.", f"How many {value} objects are in the image?"])
    if name == "zoom":
        return T.pick(rng, [f"Zoom into the {value}.", f"What is in the {value}?", f"Look closely at the {value}."])
    return T.pick(rng, [f"Play a {value} tone.", f"Please play a {value} tone.", f"Can you play a {value} tone?"])


# ------------------------------------------------------------------ samples
def offered(rng, need: str | None, exclude: str | None = None) -> list[str]:
    names = [n for n in TOOL_NAMES if n != exclude and (n == need or rng.random() < 0.6)]
    return [names[i] for i in rng.permutation(len(names))]


def with_tools(names: list[str], turns: list) -> list:
    return ([("system", [("text", tools_line(names))])] if names else []) + turns


def tool_sample(rng, idx: int, objs, kind: str) -> T.Sample:
    """kind: call | answer | no_fit | not_offered. meta carries what the held-out file and the scoring need."""
    if kind == "no_fit":  # tools offered, but the question is one the model answers itself
        base = T.image_task(rng, idx, objs, kind=T.pick(rng, ["caption", "count"])) if rng.random() < 0.6 else T.text_task(rng)
        names = offered(rng, None) or [T.pick(rng, TOOL_NAMES)]
        return T.Sample("tool_no_fit", with_tools(names, base.turns), base.answer, meta={"tools": names, "call": None})
    name = T.pick(rng, TOOL_NAMES)
    param, values, _ = TOOLS[name]
    value = T.pick(rng, values)
    if name == "count_shapes" and rng.random() < 0.5:  # mostly colours that are in the image, so answers vary
        value = T.pick(rng, objs).colour
    text = question(rng, name, value)
    parts = [("text", text)] if name == "play_tone" else T.media_first(rng, [("image", idx)], text)
    turns = T.with_system(rng, T.user(*parts))
    args = {param: value}
    if kind == "not_offered":
        names = offered(rng, None, exclude=name)
        return T.Sample("tool_not_offered", with_tools(names, turns), NO_TOOL, meta={"tools": names, "call": None})
    names = offered(rng, name)
    meta = {"tools": names, "call": {"name": name, "arguments": args}}
    if kind == "call":
        return T.Sample(f"tool_call_{name}", with_tools(names, turns), call_text(name, args), meta=meta)
    result = run_tool(name, args, objs)
    turns = turns + [("assistant", [("text", call_text(name, args))]), ("tool", [("text", result_text(rng, result))])]
    return T.Sample(f"tool_answer_{name}", with_tools(names, turns), final_answer(name, args, result), meta=meta | {"result": result})


def sample_mix(rng, pools, weights: dict) -> T.Sample:
    kinds = list(weights)
    p = [weights[k] for k in kinds]
    kind = kinds[int(rng.choice(len(kinds), p=[x / sum(p) for x in p]))]
    i = int(rng.integers(len(pools.images)))
    return tool_sample(rng, i, pools.images[i][1], kind)


def heldout(rng, pools, n: int) -> list[T.Sample]:
    """Held-out calls (every image asked once), results, and plain-answer cases, in a fixed proportion."""
    kinds = ["call"] * 6 + ["answer"] * 2 + ["no_fit", "not_offered"]
    return [tool_sample(rng, i % len(pools.images), pools.images[i % len(pools.images)][1], kinds[i % len(kinds)]) for i in range(n)]


def scene_json(objs) -> list[dict]:
    return [{"color": o.colour, "shape": o.shape, "region": W.QUADRANTS[o.quadrant], "size": o.size} for o in objs]

// Renders every template in the test corpus against a fixed set of conversations with @huggingface/jinja
// (the reference implementation used by transformers.js) and writes the results to golden.json.
// The C# tests read golden.json, so they never need Node; run this only to regenerate it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";
import { FIXED_NOW, RealDate } from "./frozen-clock.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const jinjaDir = path.resolve(here, "../../tests/MmServe.Model.Tests/Chat/Jinja");
const templatesDir = path.join(jinjaDir, "Templates");


const tools = [
  {
    type: "function",
    function: {
      name: "get_current_weather",
      description: "Get the current weather in a given location",
      parameters: {
        type: "object",
        properties: {
          location: { type: "string", description: "The city, e.g. Oslo" },
          unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        },
        required: ["location"],
      },
    },
  },
];

const conversations = {
  system_user: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What is the capital of France?" },
  ],
  multi_turn: [
    { role: "user", content: "Hello, how are you?" },
    { role: "assistant", content: "  I'm doing great. How can I help you today?  " },
    { role: "user", content: "Tell me a joke about élan & \"quotes\"." },
  ],
  multi_turn_system: [
    { role: "system", content: "Answer briefly." },
    { role: "user", content: "Hi!" },
    { role: "assistant", content: "Hello." },
    { role: "user", content: "Count to three." },
  ],
  assistant_last: [
    { role: "user", content: "Say yes." },
    { role: "assistant", content: "Yes." },
  ],
  multimodal: [
    { role: "system", content: "You describe images." },
    {
      role: "user",
      content: [
        { type: "image" },
        { type: "text", text: "What is in this picture?" },
      ],
    },
  ],
  multimodal_turns: [
    {
      role: "user",
      content: [
        { type: "image" },
        { type: "text", text: "Describe this image." },
      ],
    },
    { role: "assistant", content: [{ type: "text", text: "A cat on a sofa." }] },
    {
      role: "user",
      content: [
        { type: "text", text: "And this one?" },
        { type: "image" },
      ],
    },
  ],
  tools: [
    { role: "user", content: "What's the weather like in Oslo?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "abcXYZ123",
          type: "function",
          function: { name: "get_current_weather", arguments: { location: "Oslo", unit: "celsius" } },
        },
      ],
    },
    { role: "tool", tool_call_id: "abcXYZ123", name: "get_current_weather", content: "{\"temperature\": 21}" },
  ],
  // The same turn as many OpenAI-style clients send it: empty content, arguments as a JSON string.
  tools_string_arguments: [
    { role: "system", content: "You can call tools." },
    { role: "user", content: "What's the weather like in Oslo?" },
    {
      role: "assistant",
      content: "",
      tool_calls: [
        {
          id: "abcXYZ123",
          type: "function",
          function: { name: "get_current_weather", arguments: "{\"location\": \"Oslo\"}" },
        },
      ],
    },
    { role: "tool", tool_call_id: "abcXYZ123", name: "get_current_weather", content: "21 degrees" },
    { role: "assistant", content: "It is 21 degrees in Oslo." },
    { role: "user", content: "Thanks!" },
  ],
};

function casesFor(source) {
  const names = ["system_user", "multi_turn", "multi_turn_system", "assistant_last"];
  if (/image/.test(source)) names.push("multimodal", "multimodal_turns");
  if (/tools/.test(source)) names.push("tools", "tools_string_arguments");
  return names;
}

const files = fs.readdirSync(templatesDir).filter((f) => f.endsWith(".jinja")).sort();
const cases = [];
for (const file of files) {
  const name = file.slice(0, -".jinja".length);
  const source = fs.readFileSync(path.join(templatesDir, file), "utf8");
  let template;
  try {
    template = new Template(source);
  } catch (e) {
    cases.push({ template: name, conversation: null, error: String(e.message) });
    continue;
  }
  for (const conversation of casesFor(source)) {
    for (const addGenerationPrompt of [false, true]) {
      const context = {
        messages: conversations[conversation],
        add_generation_prompt: addGenerationPrompt,
        bos_token: "<s>",
        eos_token: "</s>",
      };
      // Tool-use variants (and Command-R) iterate `tools` unconditionally, so they always get it.
      if (conversation.startsWith("tools") || /tool_use|command-r/.test(name)) context.tools = tools;
      const entry = { template: name, conversation, add_generation_prompt: addGenerationPrompt, tools: "tools" in context };
      try {
        entry.output = template.render(structuredClone(context));
      } catch (e) {
        entry.error = String(e.message);
      }
      cases.push(entry);
    }
  }
}

const out = path.join(jinjaDir, "golden.json");
// Each case's context is { messages: conversations[conversation], add_generation_prompt, bos_token, eos_token } plus
// tools when the case says so; the conversations are stored once.
const golden = {
  generator: "@huggingface/jinja 0.5.11",
  now: new RealDate(FIXED_NOW).toISOString(),
  bos_token: "<s>",
  eos_token: "</s>",
  tools,
  conversations,
  cases,
};
fs.writeFileSync(out, JSON.stringify(golden, null, 1) + "\n");
const errors = cases.filter((c) => "error" in c).length;
console.log(`${files.length} templates, ${cases.length} cases (${errors} expected errors) -> ${out}`);

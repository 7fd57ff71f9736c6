// Render + tokenize conversations with transformers.js, for the model recipe (training data and case prompts).
//   node tokenize.mjs <model_dir> <in.json> <out.json>
// in.json: [{ "messages": [...], "add_generation_prompt": bool }]; out.json: [{ "text": "...", "ids": [...] }]
// Tokenization is the chat pipeline's: the rendered template, tokenized with add_special_tokens false.
import fs from 'node:fs';
import { loadTokenizer, renderAndTokenize, readJson } from './lib.mjs';

const [modelDir, inPath, outPath] = process.argv.slice(2);
if (!outPath) {
    console.error('usage: node tokenize.mjs <model_dir> <in.json> <out.json>');
    process.exit(2);
}
const tokenizer = await loadTokenizer(modelDir);
const items = readJson(inPath);
const out = items.map((it) => renderAndTokenize(tokenizer, it.messages, it.add_generation_prompt ?? true));
fs.writeFileSync(outPath, JSON.stringify(out));

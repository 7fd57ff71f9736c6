// Checks a decoder's ONNX graph with onnxruntime-node (the runtime under transformers.js), as a batching server
// uses it: two prompts of different lengths, left-padded into one batch, prefilled and decoded for a few steps with
// the KV cache, must give the same logits as each prompt alone; padded query rows (every key masked) stay finite.
//
//   node tools/conformance-models/oracle/check_onnx.mjs models/conformance/tiny-llama3 [onnx/model.onnx]
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const [modelDir, file = 'onnx/model.onnx'] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
const session = await ort.InferenceSession.create(path.join(modelDir, file));
const L = config.num_hidden_layers;
const KV = config.num_key_value_heads;
const HD = config.head_dim ?? config.hidden_size / config.num_attention_heads;
const V = config.vocab_size;

function i64(rows, width) {
    return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, width]);
}

async function run(ids, mask, pos, past) {
    const B = ids.length;
    const S = ids[0].length;
    const feeds = { input_ids: i64(ids, S), attention_mask: i64(mask, mask[0].length), position_ids: i64(pos, S) };
    for (let i = 0; i < L; ++i) {
        for (const kv of ['key', 'value']) {
            feeds[`past_key_values.${i}.${kv}`] =
                past?.[`present.${i}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [B, KV, 0, HD]);
        }
    }
    return await session.run(feeds);
}

/** Greedy-decode `steps` tokens for a batch of prompts, left-padded; returns the last-position logits per step. */
async function decode(prompts, steps) {
    const T = Math.max(...prompts.map((p) => p.length));
    let ids = prompts.map((p) => [...Array(T - p.length).fill(0), ...p]);
    let mask = prompts.map((p) => [...Array(T - p.length).fill(0), ...Array(p.length).fill(1)]);
    let pos = mask.map((m) => {
        let s = 0;
        return m.map((x) => (x ? s++ : 1));
    });
    const lengths = prompts.map((p) => p.length);
    const out = prompts.map(() => []);
    let past = null;
    for (let step = 0; step < steps; ++step) {
        const r = await run(ids, mask, pos, past);
        const S = ids[0].length;
        const logits = r.logits.data;
        if (!logits.every(Number.isFinite)) throw new Error('non-finite logits (a fully masked row?)');
        const next = [];
        for (let b = 0; b < prompts.length; ++b) {
            const row = logits.subarray((b * S + S - 1) * V, (b * S + S) * V);
            out[b].push(Float32Array.from(row));
            let best = 0;
            for (let v = 1; v < V; ++v) if (row[v] > row[best]) best = v;
            next.push(best);
        }
        past = r;
        ids = next.map((t) => [t]);
        mask = mask.map((m) => [...m, 1]);
        pos = lengths.map((n) => [n + step]);
    }
    return out;
}

const a = [1, 5, 9, 200, 17, 33, 48, 1000, 7, 7, 12, 90];
const b = [3, 400, 25];
const steps = 4;
const batched = await decode([a, b], steps);
const alone = [(await decode([a], steps))[0], (await decode([b], steps))[0]];
let worst = 0;
for (let r = 0; r < 2; ++r)
    for (let s = 0; s < steps; ++s)
        for (let v = 0; v < V; ++v) worst = Math.max(worst, Math.abs(batched[r][s][v] - alone[r][s][v]));
console.log(`${path.basename(modelDir)} ${file}: left-padded batch vs alone, max |logit difference| over ${steps} steps = ${worst.toExponential(2)}`);
if (worst > 1e-3) process.exit(1);

// Goldens from the reference runtime: transformers.js loads a model folder offline and decodes every case greedily.
//
//   node tools/conformance-models/oracle/generate.mjs --model models/conformance/tiny-llama3 \
//        --cases tests/conformance/cases/tiny-llama3.json --out tests/conformance/goldens/tiny-llama3.json \
//        [--dtype q8] [--min-margin 0.02]
//
// Cases file: { "model": name, "kind": "text", "max_new_tokens": N, "cases": [ { "id", "messages", ... } ] }.
// Each case is rendered with the tokenizer's chat template (add_generation_prompt) and tokenized as the
// text-generation pipeline does for chats (apply_chat_template's tokenization: add_special_tokens false), then
// generated one case at a time (batch 1, no padding) with do_sample false. Per-step top-1 minus top-2 logit margins
// are recorded through a pass-through logits processor and printed (not written to the golden). With --min-margin,
// cases whose smallest margin is below it are left out of the golden (their ids listed in "left_out").
//
// `kind` selects how a case becomes model inputs. Only "text" is here; a vision kind adds an entry to KINDS
// (load: processor + AutoModelForImageTextToText; prepare: messages + images -> processor inputs).
import path from 'node:path';
import { ORACLE, loadTokenizer, loadCausalLM, readJson, writeJson } from './lib.mjs';

function parseArgs(argv) {
    const args = { dtype: 'fp32' };
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i].replace(/^--/, '');
        if (!['model', 'cases', 'out', 'dtype', 'min-margin'].includes(key)) throw new Error(`unknown option ${argv[i]}`);
        args[key] = argv[i + 1];
    }
    for (const k of ['model', 'cases', 'out']) if (!args[k]) throw new Error(`--${k} is required`);
    return args;
}

const KINDS = {
    text: {
        async load(modelDir, dtype) {
            const tokenizer = await loadTokenizer(modelDir);
            const { model, options } = await loadCausalLM(modelDir, dtype);
            return { tokenizer, model, options };
        },
        /** Returns the golden's prompt fields and the inputs for model.generate. */
        prepare({ tokenizer }, c) {
            const prompt_text = tokenizer.apply_chat_template(c.messages, { add_generation_prompt: true, tokenize: false });
            const inputs = tokenizer.apply_chat_template(c.messages, {
                add_generation_prompt: true,
                tokenize: true,
                return_dict: true,
            });
            const prompt_ids = inputs.input_ids.tolist()[0].map(Number);
            // The same ids as tokenizing the rendered text without special tokens (what the chat pipeline does).
            const check = tokenizer(prompt_text, { add_special_tokens: false, return_tensor: false }).input_ids.map(Number);
            if (JSON.stringify(check) !== JSON.stringify(prompt_ids)) throw new Error(`${c.id}: tokenization paths differ`);
            return { prompt_text, prompt_ids, inputs };
        },
        decode({ tokenizer }, ids) {
            return tokenizer.decode(ids, { skip_special_tokens: true });
        },
    },
};

function marginRecorder() {
    const margins = [];
    const fn = (input_ids, logits) => {
        const v = logits.data;
        let a = -Infinity;
        let b = -Infinity;
        for (let i = 0; i < v.length; ++i) {
            const x = v[i];
            if (x > a) {
                b = a;
                a = x;
            } else if (x > b) {
                b = x;
            }
        }
        margins.push(a - b);
        return logits;
    };
    return { margins, fn };
}

const args = parseArgs(process.argv.slice(2));
const spec = readJson(args.cases);
const kind = KINDS[spec.kind ?? 'text'];
if (!kind) throw new Error(`no handler for kind ${spec.kind}`);
const ctx = await kind.load(args.model, args.dtype);
console.error(`${spec.model}: loaded ${path.resolve(args.model)} with ${JSON.stringify(ctx.options)}`);

const minMargin = args['min-margin'] === undefined ? null : Number(args['min-margin']);
const cases = [];
const leftOut = [];
let worst = Infinity;
for (const c of spec.cases) {
    const { prompt_text, prompt_ids, inputs } = kind.prepare(ctx, c);
    const rec = marginRecorder();
    const out = await ctx.model.generate({
        ...inputs,
        max_new_tokens: spec.max_new_tokens,
        do_sample: false,
        logits_processor: [rec.fn],
    });
    const all = out.tolist()[0].map(Number);
    const output_ids = all.slice(prompt_ids.length);
    const golden = { id: c.id };
    if (c.special_lookalike) golden.special_lookalike = true;
    Object.assign(golden, {
        messages: c.messages,
        prompt_text,
        prompt_ids,
        output_ids,
        output_text: kind.decode(ctx, output_ids),
    });
    const m = Math.min(...rec.margins);
    console.error(`  ${c.id}: ${prompt_ids.length} prompt ids, ${output_ids.length} new, min margin ${m.toFixed(4)}`);
    if (minMargin !== null && m < minMargin) {
        leftOut.push(c.id);
        continue;
    }
    worst = Math.min(worst, m);
    cases.push(golden);
}
console.error(
    `${spec.model} (${args.dtype}): ${cases.length} cases, minimum top1-top2 margin ${worst.toFixed(4)}` +
        (leftOut.length ? `; left out (margin < ${minMargin}): ${leftOut.join(', ')}` : ''),
);

const doc = { model: spec.model, oracle: ORACLE };
if (args.dtype !== 'fp32') doc.dtype = args.dtype;
doc.max_new_tokens = spec.max_new_tokens;
if (leftOut.length) doc.left_out = leftOut;
doc.cases = cases;
writeJson(args.out, doc);

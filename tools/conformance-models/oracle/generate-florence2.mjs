// Goldens and processor fixtures for the Florence-2 conformance model, from transformers.js.
//
//   node generate-florence2.mjs golden [--out-dir DIR] [--pixels-dir DIR] [--no-fixtures]
//       reads  tests/conformance/cases/florence2/tiny-florence2.json (image paths relative to tests/conformance/)
//       writes tests/conformance/goldens/florence2/tiny-florence2.json (or DIR/tiny-florence2.json): per case the
//       prompt (Florence2Processor.construct_prompts), its ids, the decoder start ids, the greedy new ids and text;
//       unless --no-fixtures, tests/conformance/fixtures/tiny-florence2/ (pixel_values of the "fixtures" images).
//       --pixels-dir: every case's pixel_values and input_ids as raw files (for the recipe's PyTorch check).
//       --no-repeat-ngram N: generate with no_repeat_ngram_size N (the real Florence-2 generation configs set 3) and
//       write <name>.no-repeat-N.json instead; fixtures are left alone.
//   node generate-florence2.mjs tokenize <texts.json> <out.json>
//       texts -> ids (add_special_tokens false), for the recipe's training targets
//   node generate-florence2.mjs prompts <texts.json> <out.json>
//       chat texts -> { prompt, ids } as Florence2Processor makes them (task tokens expanded, <s> ... </s>)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { AutoProcessor, AutoModelForImageTextToText, RawImage, env } from '@huggingface/transformers';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const modelsDir = path.join(root, 'models', 'conformance');
const confDir = path.join(root, 'tests', 'conformance');
// Florence-2 goldens sit in their own subfolders: the chat-golden tests read only the top-level goldens/*.json.
const casesDir = path.join(confDir, 'cases', 'florence2');
const goldensDir = path.join(confDir, 'goldens', 'florence2');
const fixturesDir = path.join(confDir, 'fixtures');
const ORACLE = '@huggingface/transformers ' + JSON.parse(
    fs.readFileSync(path.join(here, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version;
const NAME = 'tiny-florence2';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = modelsDir + path.sep;

const pretty = (obj) => JSON.stringify(obj, null, 2)
    .replace(/\[\n\s*(-?\d+(?:\.\d+)?(?:,\n\s*-?\d+(?:\.\d+)?)*)\n\s*\]/g, (m, inner) => '[' + inner.split(/,\s*/).join(', ') + ']') + '\n';
const toNumbers = (t) => Array.from(t.data ?? t, (x) => Number(x));
const f32bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

async function golden(outDir, pixelsDir, fixtures, noRepeat) {
    const spec = JSON.parse(fs.readFileSync(path.join(casesDir, `${NAME}.json`), 'utf8'));
    const processor = await AutoProcessor.from_pretrained(NAME);
    const model = await AutoModelForImageTextToText.from_pretrained(NAME, { dtype: 'fp32', device: 'cpu' });
    const out = { model: NAME, oracle: ORACLE, max_new_tokens: spec.max_new_tokens, ...(noRepeat ? { no_repeat_ngram_size: noRepeat } : {}), cases: [] };
    const extra = noRepeat ? { no_repeat_ngram_size: noRepeat } : {};
    for (const c of spec.cases) {
        const image = await RawImage.read(path.join(confDir, c.image));
        const inputs = await processor(image, c.text);
        const seq = await model.generate({ ...inputs, max_new_tokens: spec.max_new_tokens, do_sample: false, ...extra });
        const all = toNumbers(seq);
        const start = [model.generation_config.decoder_start_token_id];
        if (all[0] !== start[0]) throw new Error(`${c.id}: sequence does not start with decoder_start_token_id`);
        const outputIds = all.slice(1);
        const outputText = processor.tokenizer.decode(outputIds, { skip_special_tokens: true });
        const [prompt] = processor.construct_prompts(c.text);
        out.cases.push({
            id: c.id, image: c.image, image_size: [image.width, image.height], text: c.text, prompt,
            prompt_ids: toNumbers(inputs.input_ids), image_tokens: model.config.image_seq_length ?? null,
            decoder_prompt_ids: start, output_ids: outputIds, output_text: outputText,
        });
        if (pixelsDir) {
            fs.mkdirSync(pixelsDir, { recursive: true });
            fs.writeFileSync(path.join(pixelsDir, `${c.id}.pixel_values.f32`), f32bytes(inputs.pixel_values.data));
            fs.writeFileSync(path.join(pixelsDir, `${c.id}.input_ids.json`), JSON.stringify(toNumbers(inputs.input_ids)));
        }
        console.log(`${NAME} ${c.id} ${c.image} ${JSON.stringify(c.text)}: ${JSON.stringify(outputText)} (${outputIds.length} tokens)`);
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, noRepeat ? `${NAME}.no-repeat-${noRepeat}.json` : `${NAME}.json`), pretty(out));

    if (fixtures) {
        const fdir = path.join(fixturesDir, NAME);
        fs.mkdirSync(fdir, { recursive: true });
        const index = { model: NAME, oracle: ORACLE, format: 'gzip of raw little-endian float32, row-major', items: [] };
        for (const rel of spec.fixtures) {
            const stem = path.basename(rel).replace(/\.[^.]+$/, '');
            const image = await RawImage.read(path.join(confDir, rel));
            const { pixel_values } = await processor.image_processor(image);
            const bytes = f32bytes(pixel_values.data);
            fs.writeFileSync(path.join(fdir, `${stem}.pixel_values.f32.gz`), zlib.gzipSync(bytes, { level: 9 }));
            index.items.push({
                image: rel, image_size: [image.width, image.height],
                pixel_values: { file: `${stem}.pixel_values.f32.gz`, shape: pixel_values.dims, sha256: sha256(bytes) },
            });
        }
        fs.writeFileSync(path.join(fdir, 'index.json'), pretty(index));
    }
    await model.dispose();
}

async function tokenize(inFile, outFile, prompts) {
    const processor = await AutoProcessor.from_pretrained(NAME);
    const tok = processor.tokenizer;
    const texts = JSON.parse(fs.readFileSync(inFile, 'utf8'));
    const result = texts.map((t) => {
        if (!prompts) return toNumbers(tok(t, { add_special_tokens: false, return_tensor: false }).input_ids);
        const [prompt] = processor.construct_prompts(t);
        return { prompt, ids: toNumbers(tok(prompt, { return_tensor: false }).input_ids) };
    });
    fs.writeFileSync(outFile, JSON.stringify(result));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'golden') {
    let outDir = goldensDir;
    let pixelsDir = null;
    let fixtures = true;
    let noRepeat = 0;
    for (let i = 0; i < args.length; ++i) {
        if (args[i] === '--out-dir') outDir = path.resolve(args[++i]);
        else if (args[i] === '--pixels-dir') pixelsDir = path.resolve(args[++i]);
        else if (args[i] === '--no-fixtures') fixtures = false;
        else if (args[i] === '--no-repeat-ngram') { noRepeat = Number(args[++i]); fixtures = false; }
        else throw new Error(`unknown option ${args[i]}`);
    }
    await golden(outDir, pixelsDir, fixtures, noRepeat);
} else if (mode === 'tokenize' || mode === 'prompts') {
    await tokenize(args[0], args[1], mode === 'prompts');
} else {
    console.error('usage: node generate-florence2.mjs golden [--out-dir DIR] [--pixels-dir DIR] [--no-fixtures] [--no-repeat-ngram N] | tokenize|prompts <in.json> <out.json>');
    process.exit(2);
}

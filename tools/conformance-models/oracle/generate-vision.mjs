// Goldens for the vision conformance models, from transformers.js (the reference runtime for HF ONNX exports).
//
//   node generate-vision.mjs golden [--out-dir DIR] [model ...]
//       reads  tests/conformance/cases/<model>.json (messages + image paths relative to tests/conformance/)
//       writes tests/conformance/goldens/<model>.json (or DIR/<model>.json): rendered prompt, prompt ids, greedy
//       new ids, decoded text. --out-dir lets a test regenerate the goldens elsewhere and compare them.
//   node generate-vision.mjs tokenize <model> <in.json> <out.json>
//       used by make_vision_models.py to tokenize training conversations exactly as the goldens are tokenized
//
// Paths are resolved from the repository root (three levels above this folder). Offline: local models only.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoProcessor, AutoModelForImageTextToText, AutoModelForCausalLM, RawImage, env } from '@huggingface/transformers';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const modelsDir = path.join(root, 'models', 'conformance');
const confDir = path.join(root, 'tests', 'conformance');
const ORACLE = '@huggingface/transformers ' + JSON.parse(
    fs.readFileSync(path.join(here, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version;
const MAX_NEW_TOKENS = 16;

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = modelsDir + path.sep;

const VISION_MODELS = ['tiny-llava', 'tiny-phi3-vision'];

function modelType(name) {
    return JSON.parse(fs.readFileSync(path.join(modelsDir, name, 'config.json'), 'utf8')).model_type;
}

// JSON with 2-space indentation, arrays of numbers on one line
const pretty = (obj) => JSON.stringify(obj, null, 2)
    .replace(/\[\n\s*(-?\d+(?:,\n\s*-?\d+)*)\n\s*\]/g, (m, inner) => '[' + inner.split(/,\s*/).join(', ') + ']') + '\n';

const toNumbers = (t) => Array.from(t.data, (x) => Number(x));

// LlavaProcessor expands only the FIRST image token (String.replace with a string pattern); this is the same
// expansion applied to every image token, used for prompts with more than one image.
function llavaExpandAll(processor, text, pixelValues) {
    const [height, width] = pixelValues.dims.slice(-2);
    const { image_token, patch_size, num_additional_image_tokens } = processor.config;
    const n = Math.floor(height / patch_size) * Math.floor(width / patch_size) + num_additional_image_tokens;
    return text.split(image_token).join(image_token.repeat(n));
}

async function llavaInputs(processor, text, images) {
    if (images.length === 0) {
        return processor.tokenizer(text);
    }
    if (images.length === 1) {
        const inputs = await processor(images, text);
        // cross-check: the all-occurrence expansion tokenizes a one-image prompt identically
        const alt = processor.tokenizer(llavaExpandAll(processor, text, inputs.pixel_values));
        if (JSON.stringify(toNumbers(alt.input_ids)) !== JSON.stringify(toNumbers(inputs.input_ids))) {
            throw new Error('llava: expansion cross-check failed');
        }
        return inputs;
    }
    const imageInputs = await processor.image_processor(images);
    const textInputs = processor.tokenizer(llavaExpandAll(processor, text, imageInputs.pixel_values));
    return { ...imageInputs, ...textInputs };
}

async function phi3Inputs(processor, text, images) {
    return images.length === 0 ? processor(text) : processor(text, images);
}

async function golden(names, outDir) {
    for (const name of names) {
        const casesFile = path.join(confDir, 'cases', `${name}.json`);
        const spec = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
        const type = modelType(name);
        const processor = await AutoProcessor.from_pretrained(name);
        // transformers.js registers phi3_v (Phi3VForCausalLM) under AutoModelForCausalLM only
        const Auto = type === 'phi3_v' ? AutoModelForCausalLM : AutoModelForImageTextToText;
        const model = await Auto.from_pretrained(name, { dtype: 'fp32' });
        const out = { model: name, oracle: ORACLE, max_new_tokens: MAX_NEW_TOKENS, cases: [] };
        for (const c of spec.cases) {
            const promptText = processor.apply_chat_template(c.messages, { add_generation_prompt: true });
            const images = await Promise.all(c.images.map((p) => RawImage.read(path.join(confDir, p))));
            const inputs = type === 'llava'
                ? await llavaInputs(processor, promptText, images)
                : await phi3Inputs(processor, promptText, images);
            const promptIds = toNumbers(inputs.input_ids);
            const seq = await model.generate({ ...inputs, max_new_tokens: MAX_NEW_TOKENS, do_sample: false });
            const outputIds = toNumbers(seq).slice(promptIds.length);
            const outputText = processor.tokenizer.decode(outputIds, { skip_special_tokens: true });
            out.cases.push({
                id: c.id, messages: c.messages, images: c.images,
                prompt_text: promptText, prompt_ids: promptIds, output_ids: outputIds, output_text: outputText,
            });
            console.log(`${name} ${c.id}: ${JSON.stringify(outputText)} (${outputIds.length} tokens)`);
        }
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(path.join(outDir, `${name}.json`), pretty(out));
        await model.dispose();
    }
}

// Training data: { image_size: [h, w] (phi3_v: every image's size), items: [{ messages (without the answer), answer }] }
// -> items [{ prompt_ids (image tokens expanded as in the goldens; phi3_v: negative), answer_ids (+ the end token) }].
async function tokenize(name, inFile, outFile) {
    const spec = JSON.parse(fs.readFileSync(inFile, 'utf8'));
    const type = modelType(name);
    const processor = await AutoProcessor.from_pretrained(name);
    const tok = processor.tokenizer;
    const end = type === 'llava' ? tok.eos_token_id : tok.convert_tokens_to_ids('<|end|>');
    const results = [];
    let nImage;
    if (type === 'llava') {
        const { crop_size } = processor.image_processor.config;
        const { patch_size, num_additional_image_tokens } = processor.config;
        nImage = Math.floor(crop_size.height / patch_size) * Math.floor(crop_size.width / patch_size)
            + num_additional_image_tokens;
    } else {
        const [h, w] = spec.image_size;
        nImage = processor.image_processor.calc_num_image_tokens_from_image_size(w, h);
    }
    const imageId = type === 'llava' ? tok.convert_tokens_to_ids('<image>') : tok.convert_tokens_to_ids('<|image|>');
    for (const item of spec.items) {
        const text = processor.apply_chat_template(item.messages, { add_generation_prompt: true });
        const expanded = type === 'llava'
            ? text.split('<image>').join('<image>'.repeat(nImage))
            : text.split(/<\|image_\d+\|>/g).join('<|image|>'.repeat(nImage));
        let ids = toNumbers(tok(expanded).input_ids);
        if (type !== 'llava') ids = ids.map((x) => (x === imageId ? -x : x));
        const answer = toNumbers(tok(item.answer, { add_special_tokens: false }).input_ids);
        results.push({ prompt_ids: ids, answer_ids: [...answer, end] });
    }
    fs.writeFileSync(outFile, JSON.stringify({ image_tokens: nImage, image_token_id: imageId, items: results }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'golden') {
    let outDir = path.join(confDir, 'goldens');
    if (args[0] === '--out-dir') {
        outDir = path.resolve(args[1]);
        args.splice(0, 2);
    }
    await golden(args.length ? args : VISION_MODELS, outDir);
} else if (mode === 'tokenize') {
    await tokenize(args[0], args[1], args[2]);
} else {
    console.error('usage: node generate-vision.mjs golden [--out-dir DIR] [model ...] | tokenize <model> <in.json> <out.json>');
    process.exit(2);
}

// Goldens and processor fixtures for the Qwen2-VL conformance model, from transformers.js.
//
//   node generate-qwen2vl.mjs golden [--out-dir DIR] [--features-dir DIR] [--no-fixtures]
//       reads  tests/conformance/cases/tiny-qwen2-vl.json (media paths relative to tests/conformance/)
//       writes tests/conformance/goldens/tiny-qwen2-vl.json (or DIR/...): rendered prompt, prompt ids (image
//       and video tokens expanded), the M-RoPE position ids and rope delta transformers.js computes, greedy new ids,
//       decoded text; unless --no-fixtures, tests/conformance/fixtures/tiny-qwen2-vl/ (pixel_values and
//       grid_thw of every image and video). --features-dir: every case's pixel_values, raw float32 (recipe check).
//   node generate-qwen2vl.mjs tokenize <model> <in.json> <out.json>
//       training conversations -> prompt ids (expanded as in the goldens) + answer ids (+ <|im_end|>)
//
// What transformers.js 4.3.1 does not do, and how the goldens get it anyway (see README-qwen2vl.md):
// - several images in one prompt: Qwen2VLImageProcessor stacks a list of images as the frames of ONE video (grid_t =
//   n / 2); each image is processed alone here and the patches and grids are concatenated in prompt order.
// - video: there is no Qwen2-VL video processor or pixel_values_videos path. A video's frames go through the same
//   image processor as one list (exactly Qwen2-VL's video patching: temporal_patch_size 2, an odd frame count padded
//   with the last frame as the Python processor does), and the model runs with the <|video_pad|> ids relabelled as
//   <|image_pad|>: Qwen2-VL's M-RoPE positions a video grid exactly as an image grid, and the ids at vision positions
//   never reach the decoder (their embeddings are replaced by the vision features). prompt_ids keep <|video_pad|>.
// - text-only prompts: _get_text_only_rope_index returns rope delta max + 1 + seq_len where transformers' Python
//   (Qwen2VLForConditionalGeneration.get_rope_index) has max + 1 - seq_len (= 0 without padding), so every decode
//   step after a text-only prefill would sit 2 * seq_len positions too far. patchTextOnlyRopeDelta() below
//   corrects the sign on the loaded model; the goldens follow the Python semantics.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { AutoProcessor, AutoModelForImageTextToText, RawImage, Tensor, cat, env } from '@huggingface/transformers';
import { f32bytes, goldenOptions, pretty, sha256, toNumbers } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const modelsDir = path.join(root, 'models', 'conformance');
const confDir = path.join(root, 'tests', 'conformance');
// Live since issue 16's qwen2_vl serving: cases, goldens and fixtures under tests/conformance/.
const liveDir = confDir;
const ORACLE = '@huggingface/transformers ' + JSON.parse(
    fs.readFileSync(path.join(here, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version;
const NAME = 'tiny-qwen2-vl';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = modelsDir + path.sep;

const PAD = /<\|image_pad\|>|<\|video_pad\|>/g;

/** Every <|image_pad|> / <|video_pad|> of the rendered prompt, in order, repeated tokens[k] times. */
function expand(text, kinds, tokens) {
    let k = 0;
    const out = text.replace(PAD, (m) => {
        const kind = m === '<|image_pad|>' ? 'image' : 'video';
        if (kinds[k] !== kind) throw new Error(`media ${k}: prompt has ${kind}, case has ${kinds[k]}`);
        return m.repeat(tokens[k++]);
    });
    if (k !== kinds.length) throw new Error(`prompt has ${k} media markers, case has ${kinds.length}`);
    return out;
}

/** Frames of one image or video through Qwen2VLImageProcessor: an odd frame count is padded with the last frame. */
async function processMedia(processor, m) {
    const files = m.type === 'image' ? [m.path] : m.frames;
    const frames = await Promise.all(files.map((p) => RawImage.read(path.join(confDir, p))));
    if (m.type === 'video' && frames.length % 2 === 1) frames.push(frames.at(-1));
    const { pixel_values, image_grid_thw } = await processor.image_processor(frames);
    const grid = toNumbers(image_grid_thw);
    const merge = processor.image_processor.config.merge_size;
    return { pixel_values, image_grid_thw, grid, tokens: (grid[0] * grid[1] * grid[2]) / (merge * merge) };
}

/** See the header: the Python rope delta for text-only sequences (max position + 1 - seq_len, per row). */
function patchTextOnlyRopeDelta(model) {
    const original = model._get_text_only_rope_index.bind(model);
    model._get_text_only_rope_index = (input_ids, attention_mask) => {
        const [position_ids, deltas] = original(input_ids, attention_mask);
        if (!attention_mask) return [position_ids, deltas];
        const S = BigInt(attention_mask.dims[1]);
        const fixed = Array.from(deltas.data, (d) => d - 2n * S);
        return [position_ids, new Tensor('int64', BigInt64Array.from(fixed), deltas.dims)];
    };
}

async function golden(outDir, featuresDir, fixtures) {
    const spec = JSON.parse(fs.readFileSync(path.join(liveDir, 'cases', `${NAME}.json`), 'utf8'));
    const processor = await AutoProcessor.from_pretrained(NAME);
    const model = await AutoModelForImageTextToText.from_pretrained(NAME, { dtype: 'fp32', device: 'cpu' });
    patchTextOnlyRopeDelta(model);
    const { image_token_id, video_token_id } = model.config;
    const out = { model: NAME, oracle: ORACLE, max_new_tokens: spec.max_new_tokens, cases: [] };
    const seen = new Map();
    for (const c of spec.cases) {
        const promptText = processor.apply_chat_template(c.messages, { add_generation_prompt: true });
        const media = [];
        for (const m of c.media) media.push(await processMedia(processor, m));
        const text = expand(promptText, c.media.map((m) => m.type), media.map((m) => m.tokens));
        const enc = processor.tokenizer(text);
        const promptIds = toNumbers(enc.input_ids);
        const runIds = promptIds.map((x) => (x === video_token_id ? image_token_id : x));
        const inputs = {
            input_ids: new Tensor('int64', BigInt64Array.from(runIds.map(BigInt)), [1, runIds.length]),
            attention_mask: enc.attention_mask,
        };
        if (media.length) {
            inputs.pixel_values = cat(media.map((m) => m.pixel_values), 0);
            inputs.image_grid_thw = cat(media.map((m) => m.image_grid_thw), 0);
        }
        if (media.length === 1 && c.media[0].type === 'image') {
            // cross-check: the processor's own one-image path gives the same ids and patches
            const img = await RawImage.read(path.join(confDir, c.media[0].path));
            const own = await processor(promptText, img);
            if (JSON.stringify(toNumbers(own.input_ids)) !== JSON.stringify(promptIds)) throw new Error(`${c.id}: ids differ from Qwen2VLProcessor's`);
            if (JSON.stringify(toNumbers(own.image_grid_thw)) !== JSON.stringify(media[0].grid)) throw new Error(`${c.id}: grid differs`);
        }
        const [positionIds, ropeDeltas] = model.get_rope_index(inputs.input_ids, inputs.image_grid_thw ?? null, null, inputs.attention_mask);
        const pos = toNumbers(positionIds);
        const S = runIds.length;
        const seq = await model.generate({ ...inputs, max_new_tokens: spec.max_new_tokens, do_sample: false });
        const outputIds = toNumbers(seq).slice(S);
        const outputText = processor.tokenizer.decode(outputIds, { skip_special_tokens: true });
        out.cases.push({
            id: c.id, messages: c.messages,
            media: c.media.map((m, k) => ({ ...m, grid_thw: media[k].grid, tokens: media[k].tokens })),
            prompt_text: promptText, prompt_ids: promptIds,
            position_ids: [pos.slice(0, S), pos.slice(S, 2 * S), pos.slice(2 * S)],
            rope_delta: toNumbers(ropeDeltas)[0],
            output_ids: outputIds, output_text: outputText,
        });
        c.media.forEach((m, k) => {
            if (featuresDir) {
                fs.mkdirSync(featuresDir, { recursive: true });
                fs.writeFileSync(path.join(featuresDir, `${c.id}.${k}.f32`), f32bytes(media[k].pixel_values.data));
            }
            const key = m.type === 'image' ? m.path : m.file;
            if (!seen.has(key)) seen.set(key, { m, r: media[k] });
        });
        console.log(`${NAME} ${c.id}: ${JSON.stringify(outputText)} (${outputIds.length} tokens, ${S} prompt tokens)`);
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `${NAME}.json`), pretty(out));

    if (fixtures) {
        const fdir = path.join(liveDir, 'fixtures', NAME);
        fs.mkdirSync(fdir, { recursive: true });
        const index = {
            model: NAME, oracle: ORACLE,
            format: 'pixel_values: gzip of raw little-endian float32, row-major [num_patches, 3*2*14*14]; grid_thw exact',
            items: [],
        };
        for (const [key, { m, r }] of seen) {
            const stem = path.basename(key).replace(/\.[^.]+$/, '');
            const bytes = f32bytes(r.pixel_values.data);
            fs.writeFileSync(path.join(fdir, `${stem}.pixel_values.f32.gz`), zlib.gzipSync(bytes, { level: 9 }));
            index.items.push({
                ...m, grid_thw: r.grid, tokens: r.tokens,
                pixel_values: { file: `${stem}.pixel_values.f32.gz`, shape: r.pixel_values.dims, sha256: sha256(bytes) },
            });
        }
        fs.writeFileSync(path.join(fdir, 'index.json'), pretty(index));
    }
    await model.dispose();
}

async function tokenize(name, inFile, outFile) {
    const processor = await AutoProcessor.from_pretrained(name);
    const tok = processor.tokenizer;
    const end = tok.convert_tokens_to_ids('<|im_end|>');
    const spec = JSON.parse(fs.readFileSync(inFile, 'utf8'));
    const items = spec.items.map((it) => {
        const text = expand(processor.apply_chat_template(it.messages, { add_generation_prompt: true }), it.kinds, it.tokens);
        return {
            prompt_ids: toNumbers(tok(text).input_ids),
            answer_ids: [...toNumbers(tok(it.answer, { add_special_tokens: false }).input_ids), end],
        };
    });
    fs.writeFileSync(outFile, JSON.stringify({ items }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'golden') {
    const o = goldenOptions(args, path.join(liveDir, 'goldens'));
    await golden(o.outDir, o.featuresDir, o.fixtures);
} else if (mode === 'tokenize') {
    await tokenize(args[0], args[1], args[2]);
} else {
    console.error('usage: node generate-qwen2vl.mjs golden [--out-dir DIR] [--features-dir DIR] [--no-fixtures] | tokenize <model> <in.json> <out.json>');
    process.exit(2);
}

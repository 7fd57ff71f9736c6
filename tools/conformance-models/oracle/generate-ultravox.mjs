// Goldens and processor fixtures for the Ultravox conformance model, from transformers.js.
//
//   node generate-ultravox.mjs golden [--out-dir DIR] [--features-dir DIR] [--no-fixtures]
//       reads  tests/conformance/cases/tiny-ultravox.json (audio paths relative to tests/conformance/)
//       writes tests/conformance/goldens/tiny-ultravox.json (or DIR/): per case the prompt text and ids, each clip's
//       16 kHz length and audio token count, the greedy new ids and text; unless --no-fixtures, the processor fixtures
//       tests/conformance/fixtures/tiny-ultravox/ (16 kHz samples + input_features of the "fixtures" clips).
//       --features-dir: every clip's input_features as raw float32 (for the recipe's PyTorch check).
//
// Prompt: the chat template gets each message's content as a string: its parts in order, an audio part written as
// the processor's audio_placeholder ("<|audio|>"), parts joined with "\n" (the Llama 3 template Ultravox uses reads
// string content only). UltravoxProcessor takes one clip per call and expands every placeholder by that clip's count,
// so with several clips the oracle runs the processor per clip, expands the k-th placeholder by the k-th clip's
// count and runs the audio encoder per clip (the encoder attends within a clip), concatenating the features in
// prompt order. For one clip this is exactly the processor's own output (asserted).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { AutoProcessor, AutoModelForAudioTextToText, cat, env } from '@huggingface/transformers';
import { decode16k, f32bytes, goldenOptions, pretty, sha256, toNumbers } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const modelsDir = path.join(root, 'models', 'conformance');
const confDir = path.join(root, 'tests', 'conformance');
const NAME = 'tiny-ultravox';
const ORACLE = '@huggingface/transformers ' + JSON.parse(
    fs.readFileSync(path.join(here, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version;

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = modelsDir + path.sep;

/** Message content as the template reads it: parts in order, audio parts as the placeholder, joined with "\n". */
function templateMessages(messages, placeholder) {
    return messages.map((m) => ({
        role: m.role,
        content: typeof m.content === 'string'
            ? m.content
            : m.content.map((p) => (p.type === 'audio' ? placeholder : p.text)).join('\n'),
    }));
}

async function golden(outDir, featuresDir, fixtures) {
    const spec = JSON.parse(fs.readFileSync(path.join(confDir, 'cases', `${NAME}.json`), 'utf8'));
    const processor = await AutoProcessor.from_pretrained(NAME);
    const model = await AutoModelForAudioTextToText.from_pretrained(NAME, { dtype: 'fp32', device: 'cpu' });
    const placeholder = processor.config.audio_placeholder;
    const [audioTokenId] = toNumbers(processor.tokenizer(placeholder, { add_special_tokens: false }).input_ids.data);
    const out = { model: NAME, oracle: ORACLE, max_new_tokens: spec.max_new_tokens, decode: spec.decode, cases: [] };

    // The encoder runs per clip; generate() passes audio_values on to encode_audio, which this replaces.
    let clipFeatures = [];
    const encodeOne = model.encode_audio.bind(model);
    model.encode_audio = async () => {
        const parts = [];
        for (const f of clipFeatures) parts.push(await encodeOne({ audio_values: f }));
        return cat(parts, 1);
    };

    for (const c of spec.cases) {
        const prompt = processor.tokenizer.apply_chat_template(templateMessages(c.messages, placeholder), {
            add_generation_prompt: true, tokenize: false,
        });
        const pieces = prompt.split(placeholder);
        if (pieces.length - 1 !== c.media.length) throw new Error(`${c.id}: ${pieces.length - 1} placeholders, ${c.media.length} clips`);
        let text = pieces[0];
        const media = [];
        clipFeatures = [];
        for (let k = 0; k < c.media.length; ++k) {
            const samples = decode16k(path.join(confDir, c.media[k].path), spec.decode);
            const one = await processor(placeholder, samples);
            const tokens = one.audio_token_len[0];
            clipFeatures.push(one.audio_values);
            media.push({ type: 'audio', path: c.media[k].path, samples_16k: samples.length, frames: one.audio_values.dims[2], tokens });
            text += placeholder.repeat(tokens) + pieces[k + 1];
            if (featuresDir) {
                fs.mkdirSync(featuresDir, { recursive: true });
                fs.writeFileSync(path.join(featuresDir, `${c.id}.${k}.f32`), f32bytes(one.audio_values.data));
            }
            if (c.media.length === 1) {
                // One clip: the processor's own expansion must be what the per-clip path built.
                const whole = await processor(prompt, samples);
                const own = toNumbers(whole.input_ids.data);
                const mine = toNumbers(processor.tokenizer(text, { add_special_tokens: false }).input_ids.data);
                if (JSON.stringify(own) !== JSON.stringify(mine)) throw new Error(`${c.id}: per-clip expansion differs from UltravoxProcessor`);
            }
        }
        const enc = processor.tokenizer(text, { add_special_tokens: false });
        const promptIds = toNumbers(enc.input_ids.data);
        const expected = media.reduce((a, m) => a + m.tokens, 0);
        if (promptIds.filter((i) => i === audioTokenId).length !== expected) throw new Error(`${c.id}: audio token count`);
        const inputs = { input_ids: enc.input_ids, attention_mask: enc.attention_mask };
        if (clipFeatures.length > 0) inputs.audio_values = clipFeatures[0];
        const seq = await model.generate({ ...inputs, max_new_tokens: spec.max_new_tokens, do_sample: false });
        const all = toNumbers(seq.data);
        const outputIds = all.slice(promptIds.length);
        const outputText = processor.tokenizer.decode(outputIds, { skip_special_tokens: true });
        out.cases.push({
            id: c.id, messages: c.messages, media, prompt_text: prompt, prompt_ids: promptIds,
            output_ids: outputIds, output_text: outputText,
        });
        console.log(`${NAME} ${c.id} (${media.map((m) => m.tokens).join('+') || 'text'}): ${JSON.stringify(outputText)}`);
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `${NAME}.json`), pretty(out));

    if (fixtures) {
        const fdir = path.join(confDir, 'fixtures', NAME);
        fs.mkdirSync(fdir, { recursive: true });
        const index = { model: NAME, oracle: ORACLE, decode: spec.decode, format: 'gzip of raw little-endian float32, row-major', items: [] };
        for (const rel of spec.fixtures) {
            const stem = path.basename(rel).replace(/\.[^.]+$/, '');
            const samples = decode16k(path.join(confDir, rel), spec.decode);
            const { audio_values, audio_token_len } = await processor(placeholder, samples);
            const sBytes = f32bytes(samples);
            const fBytes = f32bytes(audio_values.data);
            fs.writeFileSync(path.join(fdir, `${stem}.samples.f32.gz`), zlib.gzipSync(sBytes, { level: 9 }));
            fs.writeFileSync(path.join(fdir, `${stem}.input_features.f32.gz`), zlib.gzipSync(fBytes, { level: 9 }));
            index.items.push({
                audio: rel,
                audio_tokens: audio_token_len[0],
                samples: { file: `${stem}.samples.f32.gz`, shape: [samples.length], sampling_rate: 16000, sha256: sha256(sBytes) },
                input_features: { file: `${stem}.input_features.f32.gz`, shape: audio_values.dims, sha256: sha256(fBytes) },
            });
        }
        fs.writeFileSync(path.join(fdir, 'index.json'), pretty(index));
    }
    await model.dispose();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'golden') {
    const o = goldenOptions(args, path.join(confDir, 'goldens'));
    await golden(o.outDir, o.featuresDir, o.fixtures);
} else {
    console.error('usage: node generate-ultravox.mjs golden [--out-dir DIR] [--features-dir DIR] [--no-fixtures]');
    process.exit(2);
}

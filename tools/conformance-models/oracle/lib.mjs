// Shared helpers for the conformance oracle scripts: load a local model folder with transformers.js, offline.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { env, AutoTokenizer, AutoModelForCausalLM } from '@huggingface/transformers';

export const ORACLE = '@huggingface/transformers 4.3.1';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.useBrowserCache = false;
env.useFSCache = false;

/** Point transformers.js at the folder's parent and return the name to pass to from_pretrained. */
export function localName(modelDir) {
    const abs = path.resolve(modelDir);
    env.localModelPath = path.dirname(abs) + path.sep;
    return path.basename(abs);
}

export async function loadTokenizer(modelDir) {
    return await AutoTokenizer.from_pretrained(localName(modelDir));
}

/**
 * Options for from_pretrained. `use_external_data_format` is set when the chosen ONNX file has a
 * `<file>.onnx_data` next to it, as transformers.js expects for external-data exports (a config.json
 * `transformers.js_config.use_external_data_format` does the same).
 */
export function modelOptions(modelDir, dtype) {
    const suffix = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4' }[dtype];
    if (suffix === undefined) throw new Error(`unknown dtype ${dtype}`);
    const file = `model${suffix}.onnx`;
    const options = { dtype, device: 'cpu' };
    if (fs.existsSync(path.join(modelDir, 'onnx', `${file}_data`))) {
        options.use_external_data_format = { [file]: 1 };
    }
    return options;
}

export async function loadCausalLM(modelDir, dtype = 'fp32') {
    const options = modelOptions(modelDir, dtype);
    const model = await AutoModelForCausalLM.from_pretrained(localName(modelDir), options);
    return { model, options };
}

/** The chat pipeline's tokenization: render the template to text, then tokenize it with add_special_tokens false. */
export function renderAndTokenize(tokenizer, messages, addGenerationPrompt = true) {
    const text = tokenizer.apply_chat_template(messages, { add_generation_prompt: addGenerationPrompt, tokenize: false });
    const enc = tokenizer(text, { add_special_tokens: false, return_tensor: false });
    return { text, ids: enc.input_ids.map(Number) };
}

export function readJson(p) {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
}

/** Pretty JSON (2 spaces) with arrays of numbers kept on one line. */
export function writeJson(p, value) {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const text = JSON.stringify(value, null, 2).replace(/\[\s+(-?\d[\d\s,.eE+-]*?)\s+\]/g, (_, body) =>
        '[' + body.split(/,\s+/).join(', ') + ']',
    );
    fs.writeFileSync(p, text + '\n');
}

/** ffmpeg -> mono float32 at 16 kHz (soxr), exactly the "decode" command of the cases file with FILE replaced. */
export function decode16k(file, command) {
    const argv = command.split(' ');
    if (argv[0] !== 'ffmpeg') throw new Error(`decode command must start with ffmpeg: ${command}`);
    const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', ...argv.slice(1).map((a) => (a === 'FILE' ? file : a))];
    const r = spawnSync('ffmpeg', args, { maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`ffmpeg failed on ${file}: ${r.stderr}`);
    const buf = r.stdout;
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** JSON with 2-space indent and arrays of numbers on one line (the speech and Qwen2-VL goldens' layout). */
export const pretty = (obj) => JSON.stringify(obj, null, 2)
    .replace(/\[\n\s*(-?\d+(?:\.\d+)?(?:,\n\s*-?\d+(?:\.\d+)?)*)\n\s*\]/g, (m, inner) => '[' + inner.split(/,\s*/).join(', ') + ']') + '\n';
export const toNumbers = (t) => Array.from(t.data ?? t, (x) => Number(x));
export const f32bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
export const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * Options of a "golden" command: --out-dir DIR, --features-dir DIR, --no-fixtures, and --decode CMD where the script
 * decodes audio (allowDecode). An unknown option throws.
 */
export function goldenOptions(args, outDir, allowDecode = false) {
    const options = { outDir, featuresDir: null, fixtures: true, decode: null };
    for (let i = 0; i < args.length; ++i) {
        if (args[i] === '--out-dir') options.outDir = path.resolve(args[++i]);
        else if (args[i] === '--features-dir') options.featuresDir = path.resolve(args[++i]);
        else if (args[i] === '--no-fixtures') options.fixtures = false;
        else if (args[i] === '--decode' && allowDecode) options.decode = args[++i];
        else throw new Error(`unknown option ${args[i]}`);
    }
    return options;
}

// Goldens and processor fixtures for the Whisper conformance model, from transformers.js.
//
//   node generate-whisper.mjs golden [--out-dir DIR] [--features-dir DIR] [--no-fixtures]
//       reads  tests/conformance/cases/speech/tiny-whisper.json (audio paths relative to tests/conformance/)
//       writes tests/conformance/goldens/speech/tiny-whisper.json (or DIR/tiny-whisper.json): per case the decoder
//       prompt (init tokens), greedy new ids and decoded text; and, unless --no-fixtures, the processor fixtures
//       tests/conformance/fixtures/tiny-whisper/ (16 kHz samples + input_features of the "fixtures" clips).
//       --features-dir: also every case's samples and input_features as raw float32 (for the recipe's PyTorch check).
//       --decode 'ffmpeg ... FILE ...': another decode command (robustness runs; use with --out-dir and --no-fixtures).
//   node generate-whisper.mjs tokenize <model> <texts.json> <out.json>
//       texts -> ids (add_special_tokens false), for the recipe's training targets
//
// Audio: transformers.js decodes files only in browsers (AudioContext); in Node the processor takes samples. The
// oracle decodes every clip with ffmpeg: first audio stream, soxr resampling to 16 kHz (precision 28), channels
// averaged, float32 (the command is in the cases file, "decode"). The samples are fed to WhisperProcessor as they are.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { AutoProcessor, AutoTokenizer, AutoModelForSpeechSeq2Seq, env } from '@huggingface/transformers';
import { decode16k, f32bytes, goldenOptions, pretty, sha256, toNumbers } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const modelsDir = path.join(root, 'models', 'conformance');
const confDir = path.join(root, 'tests', 'conformance');
// Live since the server serves whisper (issue 16): speech goldens sit in a subfolder, apart from the chat goldens.
const casesDir = path.join(confDir, 'cases', 'speech');
const goldensDir = path.join(confDir, 'goldens', 'speech');
const fixturesDir = path.join(confDir, 'fixtures');
const ORACLE = '@huggingface/transformers ' + JSON.parse(
    fs.readFileSync(path.join(here, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version;
const NAME = 'tiny-whisper';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = modelsDir + path.sep;

async function golden(outDir, featuresDir, fixtures, decode) {
    const spec = JSON.parse(fs.readFileSync(path.join(casesDir, `${NAME}.json`), 'utf8'));
    if (decode) spec.decode = decode;
    const processor = await AutoProcessor.from_pretrained(NAME);
    const model = await AutoModelForSpeechSeq2Seq.from_pretrained(NAME, { dtype: 'fp32', device: 'cpu' });
    const out = {
        model: NAME, oracle: ORACLE, max_new_tokens: spec.max_new_tokens, decode: spec.decode,
        cases: [],
    };
    for (const c of spec.cases) {
        const samples = decode16k(path.join(confDir, c.audio), spec.decode);
        const { input_features } = await processor(samples);
        const seq = await model.generate({
            inputs: input_features, language: c.language, task: c.task, return_timestamps: false,
            max_new_tokens: spec.max_new_tokens, do_sample: false,
        });
        const all = toNumbers(seq);
        // init tokens: <|startoftranscript|> <|lang|> <|task|> <|notimestamps|>
        const prompt = model._retrieve_init_tokens(model._prepare_generation_config(null, {
            language: c.language, task: c.task, return_timestamps: false,
        }));
        const decoderPromptIds = all.slice(0, prompt.length);
        if (JSON.stringify(decoderPromptIds) !== JSON.stringify(prompt.map(Number))) {
            throw new Error(`${c.id}: sequence does not start with the init tokens`);
        }
        const outputIds = all.slice(prompt.length);
        const outputText = processor.tokenizer.decode(outputIds, { skip_special_tokens: true });
        out.cases.push({
            id: c.id, audio: c.audio, language: c.language, task: c.task,
            samples_16k: samples.length,
            decoder_prompt_ids: decoderPromptIds, output_ids: outputIds, output_text: outputText,
        });
        if (featuresDir) {
            fs.mkdirSync(featuresDir, { recursive: true });
            fs.writeFileSync(path.join(featuresDir, `${c.id}.f32`), f32bytes(input_features.data));
            fs.writeFileSync(path.join(featuresDir, `${c.id}.samples.f32`), f32bytes(samples));
        }
        console.log(`${NAME} ${c.id} ${c.audio} ${c.language}/${c.task}: ${JSON.stringify(outputText)} (${outputIds.length} tokens)`);
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `${NAME}.json`), pretty(out));

    if (fixtures) {
        const fdir = path.join(fixturesDir, NAME);
        fs.mkdirSync(fdir, { recursive: true });
        const index = { model: NAME, oracle: ORACLE, decode: spec.decode, format: 'gzip of raw little-endian float32, row-major', items: [] };
        for (const rel of spec.fixtures) {
            const stem = path.basename(rel).replace(/\.[^.]+$/, '');
            const samples = decode16k(path.join(confDir, rel), spec.decode);
            const { input_features } = await processor(samples);
            const sBytes = f32bytes(samples);
            const fBytes = f32bytes(input_features.data);
            fs.writeFileSync(path.join(fdir, `${stem}.samples.f32.gz`), zlib.gzipSync(sBytes, { level: 9 }));
            fs.writeFileSync(path.join(fdir, `${stem}.input_features.f32.gz`), zlib.gzipSync(fBytes, { level: 9 }));
            index.items.push({
                audio: rel,
                samples: { file: `${stem}.samples.f32.gz`, shape: [samples.length], sampling_rate: 16000, sha256: sha256(sBytes) },
                input_features: { file: `${stem}.input_features.f32.gz`, shape: input_features.dims, sha256: sha256(fBytes) },
            });
        }
        fs.writeFileSync(path.join(fdir, 'index.json'), pretty(index));
    }
    await model.dispose();
}

async function tokenize(name, inFile, outFile) {
    const tok = await AutoTokenizer.from_pretrained(name);
    const texts = JSON.parse(fs.readFileSync(inFile, 'utf8'));
    const ids = texts.map((t) => toNumbers(tok(t, { add_special_tokens: false, return_tensor: false }).input_ids));
    for (let i = 0; i < texts.length; ++i) {
        const back = tok.decode(ids[i], { skip_special_tokens: true });
        if (back !== texts[i].replace(/^ /, ' ')) console.warn(`round trip: ${JSON.stringify(texts[i])} -> ${JSON.stringify(back)}`);
    }
    fs.writeFileSync(outFile, JSON.stringify(ids));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'golden') {
    const o = goldenOptions(args, goldensDir, true);
    await golden(o.outDir, o.featuresDir, o.fixtures, o.decode);
} else if (mode === 'tokenize') {
    await tokenize(args[0], args[1], args[2]);
} else {
    console.error('usage: node generate-whisper.mjs golden [--out-dir DIR] [--features-dir DIR] [--no-fixtures] [--decode CMD] | tokenize <model> <in.json> <out.json>');
    process.exit(2);
}

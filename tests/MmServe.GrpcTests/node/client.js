#!/usr/bin/env node
// A non-.NET gRPC client for the test suite: loads MmServe's protos/ itself (@grpc/proto-loader), lists the
// models and streams a chat with one image sent as raw bytes (@grpc/grpc-js), then prints one JSON object.
//
//   node client.js <host:port> <image.png> <question> [max_tokens]
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'protos');

function load() {
  const definition = protoLoader.loadSync(
    ['mmserve/v1/chat.proto', 'mmserve/v1/models.proto'],
    { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  return grpc.loadPackageDefinition(definition).mmserve.v1;
}

function listModels(v1, address) {
  const client = new v1.ModelService(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.ListModels({}, { deadline: Date.now() + 30000 }, (error, response) => {
      client.close();
      if (error) reject(error); else resolve(response.models);
    });
  });
}

function streamChat(v1, address, imagePath, question, maxTokens) {
  const client = new v1.ChatService(address, grpc.credentials.createInsecure());
  const request = {
    model: 'mmserve-tiny',
    messages: [{
      role: 'ROLE_USER',
      content: [
        { media: { mime_type: 'image/png', data: fs.readFileSync(imagePath) } },
        { text: question },
      ],
    }],
    sampling: { temperature: 0, max_tokens: maxTokens },
  };
  return new Promise((resolve, reject) => {
    const chunks = [];
    const call = client.StreamChat(request, { deadline: Date.now() + 60000 });
    call.on('data', chunk => chunks.push(chunk));
    call.on('error', error => { client.close(); reject(error); });
    call.on('end', () => { client.close(); resolve(chunks); });
  });
}

async function main() {
  const [address, imagePath, question, maxTokens] = process.argv.slice(2);
  if (!address || !imagePath || !question) {
    throw new Error('usage: node client.js <host:port> <image.png> <question> [max_tokens]');
  }

  const v1 = load();
  const models = await listModels(v1, address);
  const chunks = await streamChat(v1, address, imagePath, question, Number(maxTokens || 48));
  const deltas = chunks.filter(c => c.event === 'delta').map(c => c.delta);
  const finished = chunks.filter(c => c.event === 'finished').map(c => c.finished)[0];
  process.stdout.write(JSON.stringify({
    models: models.map(m => ({ id: m.id, input_modalities: m.capabilities.input_modalities })),
    events: chunks.map(c => c.event),
    text: deltas.map(d => d.text).join(''),
    token_ids: deltas.flatMap(d => d.token_ids),
    finish_reason: finished ? finished.reason : null,
    completion_tokens: finished ? finished.usage.completion_tokens : null,
  }) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error.code !== undefined ? `gRPC status ${error.code}: ` : ''}${error.message}\n`);
  process.exit(1);
});

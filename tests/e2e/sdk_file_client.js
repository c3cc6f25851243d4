#!/usr/bin/env node
// The official SDKs sending a file inside a JSON request, the way an application attaches one:
// openai (chat `file` part with `file_data`, chat `image_url` data URL, Responses `input_file`),
// @anthropic-ai/sdk (`document` with a text or base64 source, `image`), @google/genai
// (`inlineData`); and files uploaded through each SDK's files API, then cited by id. Pointed at a
// base URL (the gateway). Prints one JSON line:
//   {"ok":true, ...what the upload answered}                       the call succeeded
//   {"ok":false,"status":403,"message":"...","code":...,"error_class":"...","step":"..."}   the SDK raised
//
//   node sdk_file_client.js --sdk openai|anthropic|genai --shape SHAPE --base-url URL
//                           [--file PATH --mime TYPE] [--file-id ID] [--part-size N] [--timeout-ms N]
// Shapes: openai: chat-file, chat-image, responses-file; files-create (files.create, purpose
// assistants → file_id); uploads (uploads.create, then parts of --part-size bytes (default 64 KiB)
// one after the other, then complete in order → upload_id, part_ids, file_id); chat-file-id (a chat
// `file` part citing --file-id).
// anthropic: document-text (the file read as UTF-8 text), document-base64, image; files-upload
// (beta.files.upload → file_id); document-file-id (beta.messages with a `document` whose source is
// {type: file, file_id: --file-id}).
// genai: inline-data; files-upload (files.upload: the resumable protocol, start then 8 MiB chunks
// to the X-Goog-Upload-URL the start answered → file_id (the name "files/…"), file_uri);
// file-data (generateContent with a `fileData` part citing --file-id as its fileUri, --mime).
// "step" names the call that raised in a shape of several (create, part, complete).
// No retries: a retry would hide what the gateway answered the first time.
// @google/genai is loaded with import(): its CommonJS entry is empty under some Node versions, and
// import() works on Node 18 and 20 alike. Its 1.0 errors carry the status only in the message
// ("got status: 403 Forbidden. {...}"), so the status is read from there.
// Exits 0 when the call succeeded, 1 when the SDK raised an error, 2 on bad usage.
'use strict';

const fs = require('fs');
const path = require('path');

// Node 18 (Debian 12's) has no global `File`, which the openai and Anthropic SDKs' uploads need;
// both SDKs tell applications on Node 18 to set it from node:buffer, as an application would.
if (typeof globalThis.File === 'undefined') globalThis.File = require('node:buffer').File;

function parseArgs(argv) {
  const opts = { sdk: null, shape: null, baseURL: null, file: null, mime: null, fileId: null, partSize: 64 * 1024,
                 timeoutMs: 20000 };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--sdk': opts.sdk = value; break;
      case '--shape': opts.shape = value; break;
      case '--base-url': opts.baseURL = value; break;
      case '--file': opts.file = value; break;
      case '--mime': opts.mime = value; break;
      case '--file-id': opts.fileId = value; break;
      case '--part-size': opts.partSize = Number(value); break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      default:
        process.stderr.write(`sdk_file_client: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  const citing = Boolean(opts.shape) && (opts.shape.endsWith('-file-id') || opts.shape === 'file-data');
  const needsMime = !citing || opts.shape === 'file-data';
  if (!opts.sdk || !opts.shape || !opts.baseURL || (!citing && !opts.file) || (needsMime && !opts.mime) ||
      (citing && !opts.fileId) || !(opts.partSize > 0)) {
    process.stderr.write('usage: sdk_file_client.js --sdk S --shape SHAPE --base-url URL [--file PATH --mime TYPE] [--file-id ID]\n');
    process.exit(2);
  }
  return opts;
}

const PROMPT = 'Tóm tắt tệp đính kèm';

async function openai(opts, bytes) {
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: opts.baseURL, apiKey: 'sk-e2e-test', maxRetries: 0, timeout: opts.timeoutMs });
  const dataUrl = bytes ? `data:${opts.mime};base64,${bytes.toString('base64')}` : null;
  const filename = opts.file ? path.basename(opts.file) : null;
  let step = 'create';
  try {
    if (opts.shape === 'files-create') {
      const file = await client.files.create({ file: await OpenAI.toFile(bytes, filename, { type: opts.mime }), purpose: 'assistants' });
      return { ok: true, file_id: file.id, bytes: file.bytes, status: file.status };
    } else if (opts.shape === 'uploads') {
      const upload = await client.uploads.create({ bytes: bytes.length, filename, mime_type: opts.mime, purpose: 'assistants' });
      const partIds = [];
      step = 'part';
      for (let offset = 0; offset < bytes.length; offset += opts.partSize) {
        const piece = bytes.subarray(offset, Math.min(bytes.length, offset + opts.partSize));
        const part = await client.uploads.parts.create(upload.id, { data: await OpenAI.toFile(piece, 'blob') });
        partIds.push(part.id);
      }
      step = 'complete';
      const done = await client.uploads.complete(upload.id, { part_ids: partIds });
      return { ok: true, upload_id: upload.id, part_ids: partIds, status: done.status, file_id: done.file ? done.file.id : null };
    } else if (opts.shape === 'chat-file-id') {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: [
        { type: 'text', text: PROMPT }, { type: 'file', file: { file_id: opts.fileId } }] }] });
    } else if (opts.shape === 'chat-file') {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: [
        { type: 'text', text: PROMPT }, { type: 'file', file: { filename, file_data: dataUrl } }] }] });
    } else if (opts.shape === 'chat-image') {
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: [
        { type: 'text', text: PROMPT }, { type: 'image_url', image_url: { url: dataUrl } }] }] });
    } else if (opts.shape === 'responses-file') {
      await client.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: [
        { type: 'input_text', text: PROMPT }, { type: 'input_file', filename, file_data: dataUrl }] }] });
    } else {
      throw new Error(`unknown openai shape ${opts.shape}`);
    }
    return { ok: true };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { ok: false, status: err.status === undefined ? null : err.status, message: err.message,
             code: err.code === undefined ? null : err.code, error_class: err.constructor.name, step };
  }
}

async function anthropic(opts, bytes) {
  const Anthropic = require('@anthropic-ai/sdk');
  const client = new Anthropic({ baseURL: opts.baseURL, apiKey: 'sk-ant-e2e-test', maxRetries: 0, timeout: opts.timeoutMs });
  const raised = (err) => {
    if (!(err instanceof Anthropic.APIError)) throw err;
    return { ok: false, status: err.status === undefined ? null : err.status, message: err.message,
             code: (err.error && err.error.error && err.error.error.type) || null, error_class: err.constructor.name };
  };
  if (opts.shape === 'files-upload') {
    try {
      const file = await client.beta.files.upload({ file: await Anthropic.toFile(bytes, path.basename(opts.file), { type: opts.mime }) });
      return { ok: true, file_id: file.id, size_bytes: file.size_bytes };
    } catch (err) {
      return raised(err);
    }
  }
  if (opts.shape === 'document-file-id') {
    try {
      await client.beta.messages.create({
        model: 'claude-3-5-sonnet-latest', max_tokens: 64, betas: ['files-api-2025-04-14'],
        messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT },
                                             { type: 'document', source: { type: 'file', file_id: opts.fileId } }] }],
      });
      return { ok: true };
    } catch (err) {
      return raised(err);
    }
  }
  let block;
  if (opts.shape === 'document-text') {
    block = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: bytes.toString('utf8') } };
  } else if (opts.shape === 'document-base64') {
    block = { type: 'document', source: { type: 'base64', media_type: opts.mime, data: bytes.toString('base64') } };
  } else if (opts.shape === 'image') {
    block = { type: 'image', source: { type: 'base64', media_type: opts.mime, data: bytes.toString('base64') } };
  } else {
    throw new Error(`unknown anthropic shape ${opts.shape}`);
  }
  try {
    await client.messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 64,
                                   messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }, block] }] });
    return { ok: true };
  } catch (err) {
    return raised(err);
  }
}

async function genai(opts, bytes) {
  const { GoogleGenAI } = await import('@google/genai');
  const client = new GoogleGenAI({ apiKey: 'e2e-test-key', httpOptions: { baseUrl: opts.baseURL, timeout: opts.timeoutMs } });
  try {
    if (opts.shape === 'files-upload') {
      const file = await client.files.upload({ file: opts.file, config: { mimeType: opts.mime, displayName: path.basename(opts.file) } });
      return { ok: true, file_id: file.name, file_uri: file.uri, size_bytes: file.sizeBytes };
    }
    let part;
    if (opts.shape === 'inline-data') part = { inlineData: { mimeType: opts.mime, data: bytes.toString('base64') } };
    else if (opts.shape === 'file-data') part = { fileData: { mimeType: opts.mime, fileUri: opts.fileId } };
    else throw new Error(`unknown genai shape ${opts.shape}`);
    await client.models.generateContent({ model: 'gemini-2.0-flash', contents: [{ role: 'user', parts: [{ text: PROMPT }, part] }] });
    return { ok: true };
  } catch (err) {
    const match = /got status: (\d+)/.exec(String(err && err.message));
    if (!match) throw err;
    return { ok: false, status: Number(match[1]), message: err.message, code: null, error_class: err.constructor.name };
  }
}

async function main() {
  const opts = parseArgs(process.argv);
  const bytes = opts.file ? fs.readFileSync(opts.file) : null;
  const run = { openai, anthropic, genai }[opts.sdk];
  if (!run) {
    process.stderr.write(`sdk_file_client: unknown sdk ${opts.sdk}\n`);
    process.exit(2);
  }
  const result = await run(opts, bytes);
  // Exit once the line is written: @google/genai leaves its request timeout's timer running after
  // an answer, which would keep the process alive for the whole timeout.
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

main();

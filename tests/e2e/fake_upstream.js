#!/usr/bin/env node
// A fake AI upstream for the end-to-end tests: answers OpenAI, Gemini and Anthropic requests
// with minimal valid shapes and records every request it receives, so a test can assert what
// the gateway forwarded (redacted, untouched, or nothing at all).
//
//   node fake_upstream.js --port 0 --record FILE [--tls-cert C --tls-key K] [--host H]
//
// Prints {"port":N} as its first stdout line once listening. Each request becomes one JSON line in
// FILE (method, url, headers, body as UTF-8, body_base64), written synchronously before the
// response starts, so a client that has its answer can read the record at once.
// Request headers that steer it: x-fake-delay-ms: N (wait before answering), x-fake-status: N.
// x-fake-echo-labels: 1 answers with the pseudonym labels ([CCCD-1], [SĐT-2]) the request body
// carried (echoAnswer below): each label split at every character across two stream events,
// x-fake-echo-ascii: 1 writes non-ASCII as \uXXXX (as Python's json.dumps), x-fake-echo-tool: 1
// puts them into tool-call arguments (JSON text inside a JSON string) instead of the text.
// The web apps: chatgpt.com's conversation request (SSE when it accepts text/event-stream) and
// gemini.google.com's StreamGenerate; a WebSocket upgrade on any path is accepted (the first
// offered subprotocol chosen), recorded as method UPGRADE, and each message recorded as method
// WEBSOCKET and echoed back as {"echo": text}.
// File uploads, answered as the real APIs answer them (ids numbered per process, so a test reads
// them from the client's output or the records, never guesses them):
//   OpenAI      POST /v1/files (multipart) → a file object "file-<n>"; POST /v1/uploads →
//               "upload_<n>"; .../parts → "part_<n>"; .../complete → the upload, completed, with
//               its file "file-<n>"; .../cancel; GET /v1/files/<id>
//   Anthropic   POST /v1/files (multipart, told apart by its anthropic-version header) → "file_<n>"
//   Gemini      POST /upload/v1beta/files with X-Goog-Upload-Command: start → X-Goog-Upload-URL on
//               this server (?upload_id=<n>&upload_protocol=resumable); each chunk → status active,
//               the finalizing one → final and {"file": {"name": "files/e2e-<n>", "uri": ...}};
//               X-Goog-Upload-Protocol: raw or multipart (one request) → final and the same file;
//               GET /v1beta/files/e2e-<n>
//   ChatGPT web POST /backend-api/files → {"status":"success","file_id":"file-<n>","upload_url":
//               "https://<x-fake-blob-host, else files.oaiusercontent.com>/files/<uuid>/raw?…&sig=…"};
//               POST /backend-api/files/<id>/uploaded; PUT on a blob path (x-ms-blob-type) → 201
// Runs on Node 18 and 20; only WebSockets need a package (`ws`, loaded on the first upgrade).
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', record: null, tlsCert: null, tlsKey: null };
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--port': opts.port = Number(value); break;
      case '--host': opts.host = value; break;
      case '--record': opts.record = value; break;
      case '--tls-cert': opts.tlsCert = value; break;
      case '--tls-key': opts.tlsKey = value; break;
      default:
        process.stderr.write(`fake_upstream: unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (!opts.record || Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) {
    process.stderr.write('usage: fake_upstream.js --port N --record FILE [--tls-cert C --tls-key K]\n');
    process.exit(2);
  }
  return opts;
}

const now = () => Math.floor(Date.now() / 1000);

function chatCompletion(model) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: now(), model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

function chatChunk(model, i, last) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: now(), model,
    choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: `c${i}` } : { content: `c${i}` },
                logprobs: null, finish_reason: last ? 'stop' : null }],
  };
}

function responsesObject(model) {
  return {
    id: 'resp_fake', object: 'response', created_at: now(), status: 'completed', model,
    output: [{ type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant',
               content: [{ type: 'output_text', text: 'ok', annotations: [] }] }],
    usage: { input_tokens: 5, output_tokens: 1, total_tokens: 6 },
  };
}

function embeddings(model) {
  return {
    object: 'list', model,
    data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }],
    usage: { prompt_tokens: 5, total_tokens: 5 },
  };
}

function legacyCompletion(model) {
  return {
    id: 'cmpl-fake', object: 'text_completion', created: now(), model,
    choices: [{ text: 'ok', index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  };
}

function geminiResponse(text) {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1, totalTokenCount: 6 },
  };
}

function anthropicMessage(model) {
  return {
    id: 'msg_fake', type: 'message', role: 'assistant', model,
    content: [{ type: 'text', text: 'ok' }],
    stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  };
}

function anthropicEvents(model) {
  return [
    ['message_start', { type: 'message_start', message: { ...anthropicMessage(model), content: [], stop_reason: null } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'c0' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'c1' } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }],
    ['message_stop', { type: 'message_stop' }],
  ];
}

const STREAM_EVENTS = 5;
const STREAM_INTERVAL_MS = 100;

// Writes each event with its own res.write, STREAM_INTERVAL_MS apart, so the gateway sees a
// really streamed body and a test can tell whether it relayed the events as they came.
function streamEvents(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === events.length) { res.end(); return; }
    res.write(events[i++]);
    setTimeout(next, STREAM_INTERVAL_MS);
  };
  next();
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function parseJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

// ---------------------------------------------------------------------------------------------
// File uploads. One counter per process numbers every id it hands out.

let nextId = 1;
const openaiFiles = new Map();   // "file-<n>" → file object
const openaiUploads = new Map(); // "upload_<n>" → upload object (without its file until complete)
const geminiSessions = new Map(); // upload_id → {received, metadata}
const geminiFiles = new Map();   // "files/e2e-<n>" → file

// A multipart/form-data body's parts: [{name, filename, contentType, data (Buffer)}]; null when
// the body is not one (a fake reads what the SDKs send, no more).
function multipartParts(contentType, body) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) return null;
  const delimiter = Buffer.from(`--${m[1] || m[2]}`);
  const parts = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.slice(start, start + 2).toString() === '--') break;
    start += 2;  // CRLF
    const next = body.indexOf(delimiter, start);
    if (next < 0) return null;
    const part = body.slice(start, next - 2);  // the CRLF before the delimiter
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) return null;
    const head = part.slice(0, headEnd).toString('utf8');
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head);
    const type = /content-type:\s*([^\r\n]*)/i.exec(head);
    const name = disposition && /\bname="([^"]*)"/i.exec(disposition[1]);
    const filename = disposition && /\bfilename="([^"]*)"/i.exec(disposition[1]);
    parts.push({ name: name ? name[1] : null, filename: filename ? filename[1] : null,
                 contentType: type ? type[1].trim() : null, data: part.slice(headEnd + 4) });
    at = next;
  }
  return parts;
}

const field = (parts, name) => (parts || []).find((p) => p.name === name);

function openaiFileObject(filename, bytes, purpose) {
  const id = `file-${nextId++}`;
  const file = { id, object: 'file', bytes, created_at: now(), filename, purpose, status: 'processed',
                 status_details: null, expires_at: null };
  openaiFiles.set(id, file);
  return file;
}

function openaiUploadsAnswer(req, res, path, body, parts) {
  let m;
  if (path === '/v1/uploads') {
    const upload = { id: `upload_${nextId++}`, object: 'upload', bytes: body.bytes, created_at: now(),
                     filename: body.filename, purpose: body.purpose, status: 'pending',
                     expires_at: now() + 3600, file: null };
    openaiUploads.set(upload.id, upload);
    return sendJson(res, 200, upload);
  }
  if ((m = /^\/v1\/uploads\/([^/]+)\/parts$/.exec(path))) {
    const data = field(parts, 'data');
    if (!openaiUploads.has(m[1]) || !data) return sendJson(res, 400, { error: { message: 'bad part', type: 'invalid_request_error' } });
    return sendJson(res, 200, { id: `part_${nextId++}`, object: 'upload.part', created_at: now(), upload_id: m[1] });
  }
  if ((m = /^\/v1\/uploads\/([^/]+)\/complete$/.exec(path))) {
    const upload = openaiUploads.get(m[1]);
    if (!upload) return sendJson(res, 404, { error: { message: 'no such upload', type: 'invalid_request_error' } });
    upload.status = 'completed';
    upload.file = openaiFileObject(upload.filename, upload.bytes, upload.purpose);
    return sendJson(res, 200, upload);
  }
  if ((m = /^\/v1\/uploads\/([^/]+)\/cancel$/.exec(path))) {
    const upload = openaiUploads.get(m[1]);
    if (!upload) return sendJson(res, 404, { error: { message: 'no such upload', type: 'invalid_request_error' } });
    upload.status = 'cancelled';
    return sendJson(res, 200, upload);
  }
  return false;
}

// Answers an upload request; false when the request is none.
function uploadAnswer(req, res, url, rawBody, opts, server) {
  const path = url.pathname;
  const post = req.method === 'POST';
  const isAnthropic = 'anthropic-version' in req.headers;
  const parts = multipartParts(req.headers['content-type'], rawBody);
  let m;

  // Google's resumable protocol.
  const command = String(req.headers['x-goog-upload-command'] || '').toLowerCase();
  if (post && path === '/upload/v1beta/files' && command === 'start') {
    const id = String(nextId++);
    const metadata = parseJson(rawBody.toString('utf8')) || {};
    geminiSessions.set(id, { received: 0, metadata: metadata.file || {} });
    const address = server.address();
    res.writeHead(200, {
      'x-goog-upload-url': `http://${opts.host}:${address.port}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
      'x-goog-upload-status': 'active', 'x-goog-upload-chunk-granularity': '262144',
      'content-length': 0,
    });
    res.end();
    return true;
  }
  if ((req.method === 'POST' || req.method === 'PUT') && path === '/upload/v1beta/files' && command) {
    const session = geminiSessions.get(url.searchParams.get('upload_id'));
    if (!session) return sendJson(res, 404, { error: { code: 404, message: 'no such upload', status: 'NOT_FOUND' } }), true;
    if (command.includes('upload')) session.received += rawBody.length;
    if (!command.includes('finalize')) {
      res.writeHead(200, { 'x-goog-upload-status': 'active', 'content-length': 0 });
      res.end();
      return true;
    }
    const n = nextId++;
    const name = `files/e2e-${n}`;
    const stamp = new Date().toISOString();
    const file = { name, displayName: session.metadata.displayName, mimeType: session.metadata.mimeType || 'application/octet-stream',
                   sizeBytes: String(session.received), createTime: stamp, updateTime: stamp,
                   expirationTime: new Date(Date.now() + 48 * 3600 * 1000).toISOString(),
                   sha256Hash: 'ZmFrZQ==', uri: `https://generativelanguage.googleapis.com/v1beta/${name}`,
                   state: 'ACTIVE', source: 'UPLOADED' };
    geminiFiles.set(name, file);
    const body = JSON.stringify({ file });
    res.writeHead(200, { 'x-goog-upload-status': 'final', 'content-type': 'application/json; charset=UTF-8',
                         'content-length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  }
  // Google's one-request uploads: multipart/related (metadata, then the file) or the raw file.
  const protocol = String(req.headers['x-goog-upload-protocol'] || '').toLowerCase();
  if (post && path === '/upload/v1beta/files' && (protocol === 'raw' || protocol === 'multipart')) {
    const name = `files/e2e-${nextId++}`;
    const stamp = new Date().toISOString();
    const file = { name, mimeType: req.headers['content-type'] || 'application/octet-stream', sizeBytes: String(rawBody.length),
                   createTime: stamp, updateTime: stamp, uri: `https://generativelanguage.googleapis.com/v1beta/${name}`,
                   state: 'ACTIVE', source: 'UPLOADED' };
    geminiFiles.set(name, file);
    const body = JSON.stringify({ file });
    res.writeHead(200, { 'x-goog-upload-status': 'final', 'content-type': 'application/json; charset=UTF-8',
                         'content-length': Buffer.byteLength(body) });
    res.end(body);
    return true;
  }
  if (req.method === 'GET' && (m = /^\/v1beta\/(files\/[a-z0-9-]+)$/.exec(path))) {
    const file = geminiFiles.get(m[1]);
    if (!file) return sendJson(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } }), true;
    return sendJson(res, 200, file), true;
  }

  // Anthropic's and OpenAI's files.
  if (post && path === '/v1/files') {
    const file = field(parts, 'file');
    if (!file) return sendJson(res, 400, { error: { message: 'no file part', type: 'invalid_request_error' } }), true;
    if (isAnthropic) {
      return sendJson(res, 200, { id: `file_${nextId++}`, type: 'file', filename: file.filename,
                                  mime_type: file.contentType || 'application/octet-stream', size_bytes: file.data.length,
                                  created_at: new Date().toISOString(), downloadable: false }), true;
    }
    const purpose = field(parts, 'purpose');
    return sendJson(res, 200, openaiFileObject(file.filename, file.data.length, purpose ? purpose.data.toString('utf8') : null)), true;
  }
  if (req.method === 'GET' && (m = /^\/v1\/files\/([^/]+)$/.exec(path)) && openaiFiles.has(m[1])) {
    return sendJson(res, 200, openaiFiles.get(m[1])), true;
  }
  if (post && path.startsWith('/v1/uploads')) {
    const answered = openaiUploadsAnswer(req, res, path, parseJson(rawBody.toString('utf8')) || {}, parts);
    return answered !== false;
  }

  // ChatGPT web: announce, blob PUT, uploaded.
  if (post && path === '/backend-api/files') {
    const n = nextId++;
    const uuid = `00000000-e2e0-7000-8000-${String(n).padStart(12, '0')}`;
    const host = req.headers['x-fake-blob-host'] || 'files.oaiusercontent.com';
    return sendJson(res, 200, {
      status: 'success', file_id: `file-e2e${n}`,
      upload_url: `https://${host}/files/${uuid}/raw?se=2030-01-01T00%3A00%3A00Z&sp=w&sv=2024-08-04&sr=b&sig=ZTJl`,
      download_url: null,
    }), true;
  }
  if (post && (m = /^\/backend-api\/files\/([^/]+)\/uploaded$/.exec(path))) {
    return sendJson(res, 200, { status: 'success', download_url: `https://files.oaiusercontent.com/${m[1]}` }), true;
  }
  if (req.method === 'PUT' && req.headers['x-ms-blob-type']) {
    res.writeHead(201, { 'content-length': 0, etag: '"0x8DCE2E0"', 'x-ms-request-server-encrypted': 'true' });
    res.end();
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Echoing pseudonyms: the labels the gateway put into the request, sent back so the gateway must
// restore them. The text is, for each label L and each k from 0 to L's length, "(k)L " with the
// event boundary after "(k)" and k characters of L: every label split at every character.

const LABEL = /\[[^\[\]\s"\\]+-\d+\]/gu;

function labelsIn(bodyText) {
  const parsed = parseJson(bodyText);
  const text = parsed === null ? bodyText : JSON.stringify(parsed);
  return [...new Set(text.match(LABEL) || [])];
}

// [text pieces]: the echo text cut into deltas.
function echoPieces(labels) {
  const pieces = [];
  for (const label of labels) {
    const chars = [...label];
    for (let k = 0; k <= chars.length; k++) {
      pieces.push(`(${k})${chars.slice(0, k).join('')}`);
      pieces.push(`${chars.slice(k).join('')} `);
    }
  }
  return pieces.length ? pieces : ['no labels'];
}

// JSON as Python's json.dumps writes it by default: every non-ASCII character as \uXXXX.
function asciiJson(value) {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Writes each event in two pieces cut at a byte position that moves along, a few ms apart, so the
// gateway reads events split anywhere, and labels split across events.
function streamEchoEvents(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const writes = [];
  events.forEach((event, i) => {
    const bytes = Buffer.from(event, 'utf8');
    const cut = i % bytes.length;
    if (cut > 0) writes.push(bytes.subarray(0, cut));
    writes.push(bytes.subarray(cut));
  });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === writes.length) { res.end(); return; }
    res.write(writes[i++]);
    setTimeout(next, 2);
  };
  next();
}

function echoAnswer(req, res, path, body, bodyText) {
  const labels = labelsIn(bodyText);
  const ascii = req.headers['x-fake-echo-ascii'] === '1';
  const tool = req.headers['x-fake-echo-tool'] === '1';
  const dump = (value) => (ascii ? asciiJson(value) : JSON.stringify(value));
  const pieces = echoPieces(labels);
  const text = pieces.join('');
  // Tool-call arguments: JSON text, written as json.dumps would (ascii) or raw, then split.
  const args = ascii ? asciiJson({ labels, text }) : JSON.stringify({ labels, text });
  const model = typeof body.model === 'string' ? body.model : 'fake-model';
  const send = (value) => {
    const out = dump(value);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  };
  if (path.endsWith('/chat/completions')) {
    if (body.stream !== true) {
      const message = tool
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: args } }] }
        : { role: 'assistant', content: text };
      return send({ id: 'chatcmpl-echo', object: 'chat.completion', created: now(), model,
                    choices: [{ index: 0, message, logprobs: null, finish_reason: tool ? 'tool_calls' : 'stop' }],
                    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });
    }
    const chunk = (delta, finish) => ({ id: 'chatcmpl-echo', object: 'chat.completion.chunk', created: now(), model,
                                        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    const events = [];
    if (tool) {
      const cuts = [...args];
      events.push(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }, null));
      for (let i = 0; i < cuts.length; i += 3) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: cuts.slice(i, i + 3).join('') } }] }, null));
      events.push(chunk({}, 'tool_calls'));
    } else {
      events.push(chunk({ role: 'assistant', content: '' }, null));
      for (const p of pieces) events.push(chunk({ content: p }, null));
      events.push(chunk({}, 'stop'));
    }
    return streamEchoEvents(res, [...events.map((e) => `data: ${dump(e)}\n\n`), 'data: [DONE]\n\n']);
  }
  if (path.endsWith('/messages')) {
    if (body.stream !== true) {
      return send({ id: 'msg_echo', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }],
                    stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } });
    }
    const events = [
      ['message_start', { type: 'message_start', message: { id: 'msg_echo', type: 'message', role: 'assistant', model, content: [],
                                                            stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ...pieces.map((p) => ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } }]),
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ];
    if (tool) {
      const cuts = [...args];
      events.push(['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} } }]);
      for (let i = 0; i < cuts.length; i += 3)
        events.push(['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: cuts.slice(i, i + 3).join('') } }]);
      events.push(['content_block_stop', { type: 'content_block_stop', index: 1 }]);
    }
    events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2 } }]);
    events.push(['message_stop', { type: 'message_stop' }]);
    return streamEchoEvents(res, events.map(([name, data]) => `event: ${name}\ndata: ${dump(data)}\n\n`));
  }
  if (path.endsWith(':streamGenerateContent')) {
    return streamEchoEvents(res, pieces.map((p) => `data: ${dump(geminiResponse(p))}\r\n\r\n`));
  }
  if (path.endsWith(':generateContent')) return send(geminiResponse(text));
  return send({ text });
}

function answer(req, res, rawBody, opts, server) {
  const bodyText = rawBody.toString('utf8');
  const forced = Number(req.headers['x-fake-status'] || 0);
  if (forced) {
    sendJson(res, forced, { error: { message: `fake upstream status ${forced}`, type: 'fake_status', code: null } });
    return;
  }
  const url = new URL(req.url, 'http://upstream');
  if (uploadAnswer(req, res, url, rawBody, opts, server)) return;
  const path = url.pathname;
  const body = parseJson(bodyText) || {};
  const model = typeof body.model === 'string' ? body.model : 'fake-model';
  const post = req.method === 'POST';

  if (post && req.headers['x-fake-echo-labels'] === '1') {
    echoAnswer(req, res, path, body, bodyText);
  } else if (post && path.endsWith('/chat/completions')) {
    if (body.stream === true) {
      const events = [];
      for (let i = 0; i < STREAM_EVENTS; i++) events.push(`data: ${JSON.stringify(chatChunk(model, i, i === STREAM_EVENTS - 1))}\n\n`);
      events.push('data: [DONE]\n\n');
      streamEvents(res, events);
    } else {
      sendJson(res, 200, chatCompletion(model));
    }
  } else if (post && path.endsWith('/responses')) {
    sendJson(res, 200, responsesObject(model));
  } else if (post && path.endsWith('/embeddings')) {
    sendJson(res, 200, embeddings(model));
  } else if (post && path.endsWith('/completions')) {
    sendJson(res, 200, legacyCompletion(model));
  } else if (post && path.endsWith(':streamGenerateContent')) {
    const events = [];
    for (let i = 0; i < STREAM_EVENTS; i++) events.push(`data: ${JSON.stringify(geminiResponse(`c${i}`))}\r\n\r\n`);
    streamEvents(res, events);
  } else if (post && path.endsWith(':generateContent')) {
    sendJson(res, 200, geminiResponse('ok'));
  } else if (post && path.endsWith('/messages')) {
    if (body.stream === true) {
      streamEvents(res, anthropicEvents(model).map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`));
    } else {
      sendJson(res, 200, anthropicMessage(model));
    }
  } else if (post && /\/backend-api\/(f\/)?conversation$/.test(path)) {
    chatgptConversation(req, res);
  } else if (post && path.endsWith('/StreamGenerate')) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(streamGenerateAnswer('ok'));
  } else {
    sendJson(res, 200, { ok: true });
  }
}

// chatgpt.com's answer to a conversation request: SSE events carrying the growing assistant
// message, then [DONE].
function chatgptConversation(req, res) {
  const message = (i) => ({
    message: { id: 'fake-assistant', author: { role: 'assistant' }, content: { content_type: 'text', parts: [`c${i}`] } },
    conversation_id: 'fake-conversation', error: null,
  });
  if (!String(req.headers.accept || '').includes('text/event-stream')) {
    sendJson(res, 200, message(0));
    return;
  }
  const events = [];
  for (let i = 0; i < STREAM_EVENTS; i++) events.push(`data: ${JSON.stringify(message(i))}\n\n`);
  events.push('data: [DONE]\n\n');
  streamEvents(res, events);
}

// gemini.google.com's StreamGenerate answer: )]}' then a length-prefixed [["wrb.fr",null,"<JSON>"]].
function streamGenerateAnswer(text) {
  const chunk = JSON.stringify([['wrb.fr', null, JSON.stringify([null, ['c_fake', 'r_fake'], null, null, [['rc_fake', [text]]]])]]);
  return `)]}'\n\n${chunk.length}\n${chunk}\n`;
}

function record(opts, value) {
  fs.appendFileSync(opts.record, JSON.stringify({ time_ms: Date.now(), tls: Boolean(opts.tlsCert), ...value }) + '\n');
}

// WebSocket upgrades: recorded, accepted with the first offered subprotocol, messages echoed.
function acceptWebSockets(server, opts) {
  let wss = null;
  server.on('upgrade', (req, socket, head) => {
    if (!wss) {
      const { WebSocketServer } = require('ws');
      wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => protocols.values().next().value || false });
    }
    record(opts, { method: 'UPGRADE', url: req.url, headers: req.headers, body: '', body_base64: '' });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const body = Buffer.from(data);
        record(opts, { method: 'WEBSOCKET', url: req.url, headers: {}, binary: isBinary, body: body.toString('utf8'),
                       body_base64: body.toString('base64') });
        ws.send(JSON.stringify({ echo: body.toString('utf8') }));
      });
    });
  });
}

function main() {
  const opts = parseArgs(process.argv);
  const handler = (req, res) => {
    const parts = [];
    req.on('data', (chunk) => parts.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const record = {
        time_ms: Date.now(), tls: Boolean(opts.tlsCert), method: req.method, url: req.url,
        headers: req.headers, body: body.toString('utf8'), body_base64: body.toString('base64'),
      };
      fs.appendFileSync(opts.record, JSON.stringify(record) + '\n');
      const delay = Number(req.headers['x-fake-delay-ms'] || 0);
      if (delay > 0) setTimeout(() => answer(req, res, body, opts, server), delay);
      else answer(req, res, body, opts, server);
    });
  };
  const server = opts.tlsCert
    ? https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }, handler)
    : http.createServer(handler);
  // Every field kept, however many (Node keeps the first 2000 names and values by default): the
  // attack suite sends a thousand headers and reads them back from the record.
  server.maxHeadersCount = 0;
  acceptWebSockets(server, opts);
  server.listen(opts.port, opts.host, () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
  });
  // Open keep-alive connections would hold server.close() up: a fake has nothing to drain.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main();

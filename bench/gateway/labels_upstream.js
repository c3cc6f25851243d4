// The upstream of bench/run-pseudonym-bench.sh: answers every POST at once with an OpenAI
// chat.completions SSE reply of about 2 KB whose text repeats the labels the request carried
// ([CCCD-1], [SĐT-1]: what promptwall forwarded), cut into deltas of 3-9 characters so labels are
// split across events. Listens on 127.0.0.1 only; prints "listening" once ready.
//   node labels_upstream.js PORT
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
if (!(port > 0)) {
  console.error('usage: node labels_upstream.js PORT');
  process.exit(2);
}
const LABEL = /\[[^\[\]\s"\\]+-\d+\]/gu;

function reply(labels) {
  const sentence = `Kính gửi anh, hồ sơ ${labels.join(' và ') || '(không có nhãn)'} đã được tiếp nhận. `;
  const chars = [...sentence.repeat(3)];
  const events = [];
  let n = 3;
  for (let i = 0; i < chars.length; i += n, n = 3 + ((n * 7 + 1) % 7)) {
    const chunk = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench',
                    choices: [{ index: 0, delta: { content: chars.slice(i, i + n).join('') }, finish_reason: null }] };
    events.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  events.push('data: [DONE]\n\n');
  return events.join('');
}

const cache = new Map();
http.createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const labels = [...new Set(Buffer.concat(parts).toString('utf8').match(LABEL) || [])];
    const key = labels.join(',');
    if (!cache.has(key)) cache.set(key, Buffer.from(reply(labels), 'utf8'));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(cache.get(key));
  });
}).listen(port, '127.0.0.1', () => console.log('listening'));

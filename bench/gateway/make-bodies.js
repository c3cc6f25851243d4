// Writes the request bodies of the gateway bench: OpenAI chat completions of exactly SIZE bytes
// whose user message is Vietnamese and English prose from the shared corpus, like a real prompt
// that pastes documentation and UI text around a question.
//   node make-bodies.js CORPUS_DIR OUT_DIR [COUNT=8] [SIZE=4096] [SEED=20261126]
// OUT_DIR/clean-I.json   no sensitive item (checked by the bench: promptwall must answer "allow")
// OUT_DIR/redact-I.json  the same prompt with one sentence holding a CCCD number inserted at a
//                        paragraph boundary (promptwall must answer "redact"), trimmed to SIZE
// OUT_DIR/stream.json    a clean body with "stream": true, for the streaming memory run
// Same arguments, same bytes.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const [corpusDir, outDir, countText = '8', sizeText = '4096', seedText = '20261126'] = process.argv.slice(2);
if (!corpusDir || !outDir) {
  console.error('usage: node make-bodies.js CORPUS_DIR OUT_DIR [COUNT] [SIZE] [SEED]');
  process.exit(2);
}
const count = Number(countText), size = Number(sizeText);

// mulberry32: a small seeded generator, so the bodies are the same from run to run.
let state = Number(seedText) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (n) => Math.floor(random() * n);

// Lines that read like prose. The corpus holds real e-mail addresses (Debian changelogs) and
// long numbers, which promptwall rightly acts on: the clean prompt must hold no finding.
function proseLines(file) {
  return zlib.gunzipSync(fs.readFileSync(path.join(corpusDir, file))).toString('utf8').split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length >= 24 && !/[@<>%\\]|\d{4,}|https?:|www\.|[A-Z0-9]{8,}/.test(l));
}
const corpora = {vi: proseLines('vi-ui.txt.gz'), en: proseLines('en-docs.txt.gz')};

// A paragraph: 1-6 consecutive lines from a random place, as text is pasted.
function paragraph(lang) {
  const lines = corpora[lang];
  const start = pick(lines.length - 6), n = 1 + pick(6);
  return lines.slice(start, start + n).join('\n');
}

const system = 'You are a helpful assistant for an internal IT team. Answer in the language of the question.';
const opening = ['Hãy tóm tắt các đoạn sau và chỉ ra điểm cần sửa. Please summarise the text below and point out what needs fixing.',
                 'Dịch sang tiếng Anh và giải thích ngắn gọn. Translate to English and explain briefly.',
                 'Review this documentation excerpt; có lỗi chính tả nào không?'];
const cccdSentences = ['Khách hàng Nguyễn Văn An, số CCCD 001203004567, yêu cầu cập nhật lại hồ sơ này.',
                       'Customer record: citizen ID (CCCD) 001203004567, please verify before replying.'];

function body(messages, extra) {
  return JSON.stringify({model: 'gpt-4o-mini', messages, temperature: 0.2, ...extra});
}
const bytes = (s) => Buffer.byteLength(s, 'utf8');

// Cuts `content` (at a code point boundary) so the whole body is exactly `size` bytes; JSON
// escapes make a character cost more than its UTF-8 bytes, so measure the encoded body.
function fitTo(paragraphs, extra) {
  let content = paragraphs.join('\n\n');
  const encoded = (c) => body([{role: 'system', content: system}, {role: 'user', content: c}], extra);
  let chars = Array.from(content);
  let lo = 0, hi = chars.length;
  while (lo < hi) {  // the longest prefix that fits
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(encoded(chars.slice(0, mid).join(''))) <= size) lo = mid; else hi = mid - 1;
  }
  content = chars.slice(0, lo).join('');
  let out = encoded(content);
  // A multi-byte character at the cut can leave a byte or two: pad with spaces.
  while (bytes(out) < size) { content += ' '; out = encoded(content); }
  if (bytes(out) !== size) throw new Error(`cannot fit a body to ${size} bytes`);
  return out;
}

fs.mkdirSync(outDir, {recursive: true});
for (let i = 0; i < count; ++i) {
  const paragraphs = [opening[i % opening.length]];
  while (bytes(paragraphs.join('\n\n')) < size * 1.5) paragraphs.push(paragraph(random() < 0.5 ? 'vi' : 'en'));
  fs.writeFileSync(path.join(outDir, `clean-${i}.json`), fitTo(paragraphs));
  // The CCCD goes early enough to survive the trim to size.
  const withItem = paragraphs.slice();
  withItem.splice(1 + pick(3), 0, cccdSentences[i % cccdSentences.length]);
  fs.writeFileSync(path.join(outDir, `redact-${i}.json`), fitTo(withItem));
}
{
  const paragraphs = [opening[0]];
  while (bytes(paragraphs.join('\n\n')) < size * 1.5) paragraphs.push(paragraph(random() < 0.5 ? 'vi' : 'en'));
  fs.writeFileSync(path.join(outDir, 'stream.json'), fitTo(paragraphs, {stream: true}));
}
console.log(`${count} clean + ${count} redact bodies of ${size} bytes, and stream.json, in ${outDir}`);

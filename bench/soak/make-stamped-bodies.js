// Writes the soak's blocked bodies next to the gateway bench's (bench/gateway/make-bodies.js):
// each clean-I.json with a classification stamp line put before its user message, as a pasted
// document's first line, so promptwall (enforce) answers 403 "block" and records the event.
//   node make-stamped-bodies.js BODIES_DIR     -> BODIES_DIR/block-I.json for every clean-I.json
// Same input, same bytes. The stamps are the degree stamps of the shared samples (a line that
// holds only the degree, with or without an urgency word).
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node make-stamped-bodies.js BODIES_DIR');
  process.exit(2);
}
const stamps = ['TỐI MẬT', 'MẬT', 'TUYỆT MẬT', 'TỐI MẬT - HỎA TỐC'];
const clean = fs.readdirSync(dir).filter((f) => /^clean-\d+\.json$/.test(f)).sort();
if (clean.length === 0) throw new Error(`no clean-I.json in ${dir}`);
for (const file of clean) {
  const i = Number(file.match(/\d+/)[0]);
  const body = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const user = body.messages.find((m) => m.role === 'user');
  user.content = `${stamps[i % stamps.length]}\n\n${user.content}`;
  fs.writeFileSync(path.join(dir, `block-${i}.json`), JSON.stringify(body));
}
console.log(`${clean.length} stamped bodies in ${dir}`);

#!/usr/bin/env node
// Drives the officers' review page in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core) the way an officer would: open /review unsigned, sign in, read the list, filter
// it by category with the drop-down, open an event, set its triage with a note, reload, switch to
// English.
//
//   node review_browser.js --base http://127.0.0.1:PORT --name NAME --password PW
//                          --event ID --category CAT [--chromium PATH]
//
// Prints one JSON line with what it saw (the C++ test asserts on it), or {"error":"..."}.
'use strict';

const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const opts = { chromium: process.env.PROMPTWALL_CHROMIUM || '/usr/bin/chromium' };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['base', 'name', 'password', 'event', 'category', 'chromium'].includes(key)) {
      process.stderr.write(`review_browser: unknown option ${argv[i]}\n`);
      process.exit(2);
    }
    opts[key] = argv[i + 1];
  }
  for (const k of ['base', 'name', 'password', 'event', 'category']) {
    if (!opts[k]) {
      process.stderr.write(`review_browser: --${k} is required\n`);
      process.exit(2);
    }
  }
  return opts;
}

async function eventIds(page) {
  return page.$$eval('tr.event', (rows) => rows.map((r) => r.getAttribute('data-event-id')));
}

async function text(page, selector) {
  const el = await page.$(selector);
  return el ? (await el.textContent()).trim() : null;
}

async function main() {
  const opts = parseArgs(process.argv);
  const out = {};
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(8000);
    // A Content-Security-Policy violation (a blocked inline style or script) shows up here.
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    // Unsigned: the list redirects to the sign-in page.
    await page.goto(`${opts.base}/review`);
    out.unsigned_url = new URL(page.url()).pathname;
    out.login_heading = await text(page, 'h1');

    // Sign in.
    await page.fill('#name', opts.name);
    await page.fill('#password', opts.password);
    await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
    out.signed_in_url = new URL(page.url()).pathname;
    out.officer = await text(page, '#officer');

    // The list, then narrowed by the category drop-down (its change submits the form, by script).
    out.list_ids = await eventIds(page);
    out.list_total = Number(await text(page, '#total'));
    await Promise.all([page.waitForNavigation(), page.selectOption('#filter-category', opts.category)]);
    out.filtered_query = new URL(page.url()).search;
    out.filtered_ids = await eventIds(page);
    out.filtered_total = Number(await text(page, '#total'));

    // The event's detail, and its triage.
    await Promise.all([page.waitForNavigation(), page.click(`tr[data-event-id="${opts.event}"] a`)]);
    out.detail_url = new URL(page.url()).pathname;
    out.excerpts = await page.$$eval('code.excerpt', (els) => els.map((e) => e.textContent));
    out.state_before = await text(page, '#triage-state');
    await page.selectOption('#state', 'confirmed');
    const note = 'Đã xác minh với anh Nam <b>thật</b>';
    await page.fill('#note', note);
    out.note_left = Number(await text(page, '#note-left'));
    out.note_chars = Array.from(note).length;
    await Promise.all([page.waitForNavigation(), page.click('#triage-save')]);
    out.after_save_url = new URL(page.url()).pathname;

    // A reload reads the state back from the trail.
    await page.reload();
    out.state_after_reload = await text(page, '#triage-state');
    out.history_notes = await page.$$eval('#triage-history td.note', (els) => els.map((e) => e.textContent));

    // English, on the same page.
    await Promise.all([page.waitForNavigation(), page.click('#lang-switch')]);
    out.state_english = await text(page, '#triage-state');
    out.html_lang = await page.getAttribute('html', 'lang');

    // The usage page (issue 17): its server-drawn chart or its "no data" line, under the same CSP,
    // and the CSV link; times said to be in the organisation's zone.
    await Promise.all([page.waitForNavigation(), page.click('a[href="/review/usage"]')]);
    out.usage_url = new URL(page.url()).pathname;
    out.usage_heading = await text(page, 'h1');
    out.usage_drawn = (await page.$('#chart-usage')) !== null || (await page.$('#usage-none')) !== null;
    out.usage_csv_href = await page.getAttribute('#usage-csv', 'href');
    out.time_zone = await text(page, '#time-zone');
    // The download with the officer's cookies (the page's CSP allows it no fetch of its own).
    const csv = await page.context().request.get(`${opts.base}${out.usage_csv_href}`);
    out.usage_csv = { status: csv.status(), type: csv.headers()['content-type'], head: (await csv.text()).slice(0, 80) };

    out.console_errors = consoleErrors;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }) + '\n');
  process.exit(1);
});

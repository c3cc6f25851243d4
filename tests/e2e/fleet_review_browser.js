#!/usr/bin/env node
// The fleet's review page (issue 17) in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core), as an officer at the centre uses it on a gateway whose page reads the central
// store (audit.central.review): sign in, list the blocked requests of each gateway with the
// gateway filter, open the usage page and read its per-unit chart and table.
//
//   node fleet_review_browser.js --base http://127.0.0.1:PORT --name NAME --password PW
//                                --gateways gw-1,gw-2,gw-3 [--chromium PATH]
//
// Prints one JSON line with what it saw (fleet_test.cpp asserts on it), or {"error":"..."}.
'use strict';

const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const opts = { chromium: process.env.PROMPTWALL_CHROMIUM || '/usr/bin/chromium' };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['base', 'name', 'password', 'gateways', 'chromium'].includes(key)) {
      process.stderr.write(`fleet_review_browser: unknown option ${argv[i]}\n`);
      process.exit(2);
    }
    opts[key] = argv[i + 1];
  }
  for (const k of ['base', 'name', 'password', 'gateways']) {
    if (!opts[k]) {
      process.stderr.write(`fleet_review_browser: --${k} is required\n`);
      process.exit(2);
    }
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv);
  const out = { by_gateway: {} };
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(8000);
    const consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    await page.goto(`${opts.base}/review`);
    await page.fill('#name', opts.name);
    await page.fill('#password', opts.password);
    await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
    out.signed_in_url = new URL(page.url()).pathname;
    // The gateway filter offers every gateway the central store has events of.
    out.gateway_options = await page.$$eval('#filter-gateway option', (os) => os.map((o) => o.value).filter((v) => v));

    for (const gw of opts.gateways.split(',')) {
      await page.goto(`${opts.base}/review?decision=block&gateway=${encodeURIComponent(gw)}`);
      out.by_gateway[gw] = await page.$$eval('tr.event', (rows) => rows.map((r) => r.getAttribute('data-event-id')));
    }

    await page.goto(`${opts.base}/review/usage`);
    out.usage_chart = (await page.$('#chart-usage')) !== null;
    out.usage_units = await page.$$eval('tr.usage-unit td:first-child', (cells) => cells.map((c) => c.textContent.trim()));
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

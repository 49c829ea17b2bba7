// First paint of a dashboard page in Debian's Chromium, for bench/dashboard/run.sh.
//
//   node bench/dashboard/first_paint.mjs URL [RUNS]
//
// Loads URL once (cold: the browser's cache is empty), then RUNS more times, each in a new
// browser context, and prints JSON: first-contentful-paint, DOMContentLoaded and load, in
// milliseconds from the start of the navigation (the Performance API's own clock), for the cold
// load and as median and max of the others. puppeteer-core comes from tests/browser (installed
// by scripts/install-deps.sh).
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'browser', 'package.json'));
const puppeteer = require('puppeteer-core');

const url = process.argv[2];
const runs = Number(process.argv[3] || 10);
if (!url) {
  console.error('usage: first_paint.mjs URL [RUNS]');
  process.exit(2);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // As in tests/browser/dashboard.test.mjs: root needs --no-sandbox; no background traffic.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  defaultViewport: {width: 1280, height: 800},
});

async function load() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const response = await page.goto(url, {waitUntil: 'load'});
  if (!response || response.status() !== 200) {
    throw new Error(`GET ${url}: ${response ? response.status() : 'no response'}`);
  }
  // The paint entry is queued after the frame is presented, which may be after `load`: wait
  // for it (at most 5 s; null when none came).
  const figures = await page.evaluate(() => new Promise((resolve) => {
    const nav = () => performance.getEntriesByType('navigation')[0];
    const done = (paint) => resolve({
      fcp: paint ? paint.startTime : null,
      dom: nav().domContentLoadedEventEnd,
      load: nav().loadEventEnd,
      html_bytes: nav().transferSize,
      rows: document.querySelectorAll('tr[data-target]').length,
    });
    const paint = () => performance.getEntriesByName('first-contentful-paint')[0];
    if (paint()) return done(paint());
    new PerformanceObserver(() => { if (paint()) done(paint()); })
        .observe({type: 'paint', buffered: true});
    setTimeout(() => done(paint()), 5000);
  }));
  if (figures.fcp === null) throw new Error(`no first-contentful-paint for ${url}`);
  await context.close();
  return figures;
}

const round = (x) => Math.round(x * 10) / 10;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const cold = await load();
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(await load());
  const summary = (key) => ({
    median: round(median(warm.map((w) => w[key]))),
    max: round(Math.max(...warm.map((w) => w[key]))),
  });
  console.log(JSON.stringify({
    cold: {fcp: round(cold.fcp), dom: round(cold.dom), load: round(cold.load)},
    fcp: summary('fcp'), dom: summary('dom'), load: summary('load'), n: runs,
    html_bytes: cold.html_bytes, target_rows: cold.rows,
    chromium: await browser.version(),
  }));
} finally {
  await browser.close();
}

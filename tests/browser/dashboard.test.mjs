// Drives Debian's Chromium (headless, through puppeteer-core) against a running `tandem
// dashboard` whose databases the caller has filled: src/dashboard/browser_test.cc does, then
// checks the database after this script's clicks. Run it through that test:
//
//   ./build/tandem_tests --gtest_filter='DashboardBrowser*'
//
// Everything it needs comes from the environment (the test sets it):
//   TANDEM_DASHBOARD_URL      http://127.0.0.1:PORT of the running dashboard
//   TANDEM_DASHBOARD_TOKEN    the token the dashboard was started with
//   DASHBOARD_FIXTURE         JSON: {target, other_target, pause_job, background_job,
//                             failed_job, failed_version, xss_version, xss_name, xss_error,
//                             plain_version}
//   CHROMIUM                  the browser (default /usr/bin/chromium)
//   TANDEM_SCREENSHOTS_DIR    when set, also writes dashboard-*.png of every page there
//
// It prints TAP (node's test runner) and exits non-zero when any check fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';

import puppeteer from 'puppeteer-core';

const base = requireEnv('TANDEM_DASHBOARD_URL').replace(/\/$/, '');
const token = requireEnv('TANDEM_DASHBOARD_TOKEN');
const fixture = JSON.parse(requireEnv('DASHBOARD_FIXTURE'));
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshots = process.env.TANDEM_SCREENSHOTS_DIR || '';

// A hung browser must fail the test, not hang the suite.
const deadline = setTimeout(() => {
  console.error('# the browser test did not finish within 150 s');
  process.exit(3);
}, 150_000);

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`# ${name} is not set (run this through src/dashboard/browser_test.cc)`);
    process.exit(2);
  }
  return value;
}

const t = encodeURIComponent;
const pages = {
  overview: '/',
  target: `/targets/${t(fixture.target)}`,
  migration: `/targets/${t(fixture.target)}/migrations/${t(fixture.failed_version)}`,
  xss_migration: `/targets/${t(fixture.target)}/migrations/${t(fixture.xss_version)}`,
  job: `/targets/${t(fixture.target)}/jobs/${t(fixture.failed_job)}`,
  queued_job: `/targets/${t(fixture.target)}/jobs/${t(fixture.pause_job)}`,
  background_job: `/targets/${t(fixture.target)}/jobs/${t(fixture.background_job)}`,
  jobs: '/jobs',
  events: '/events',
  login: '/login',
};

let browser;
// Chromium's own flags for a closed machine: no sandbox (CI runs as root, where Chromium refuses
// to start with it), no GPU, and none of the background connections to Google's services that
// this machine's network refuses.
const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--mute-audio', '--font-render-hinting=none',
];

before(async () => {
  assert.ok(fs.existsSync(chromium), `no browser at ${chromium}: run scripts/install-deps.sh`);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: chromiumArgs,
    defaultViewport: {width: 1280, height: 800},
  });
});

after(async () => {
  if (browser) await browser.close();
  clearTimeout(deadline);
});

// A page (in `context`, a browser context: its own cookies) that records what goes wrong on it:
// console errors, uncaught exceptions, failed or refused requests, and every dialog (dismissed;
// an alert is what an injected script would show).
async function watchedPage(context, {javascript = true, viewport} = {}) {
  const page = await context.newPage();
  if (viewport) await page.setViewport(viewport);
  await page.setJavaScriptEnabled(javascript);
  page.problems = [];
  page.dialogs = [];
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location()?.url || '';
      page.problems.push(`console error: ${message.text()} ${where}`.trim());
    }
  });
  page.on('pageerror', (error) => page.problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText || '';
    // The event stream is cut when the page is left: that is the browser closing it, not a
    // failure of the dashboard.
    if (request.url().includes('/api/stream') && reason === 'net::ERR_ABORTED') return;
    page.problems.push(`request failed: ${request.method()} ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      page.problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    }
  });
  page.on('dialog', async (dialog) => {
    page.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  return page;
}

async function open(page, route) {
  const response = await page.goto(base + route, {waitUntil: 'load'});
  assert.ok(response, `no response for ${route}`);
  assert.equal(response.status(), 200, `GET ${route}: HTTP ${response.status()}`);
  return response;
}

// Until the page's script has opened its event stream (`#live` says "live"), and a moment for
// what it fetches after: errors come from there too.
async function settled(page) {
  await page.waitForFunction(
      () => document.querySelector('#live')?.innerText.trim().toLowerCase() === 'live',
      {timeout: 5_000}).catch(() => page.problems.push('#live never said "live"'));
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const text = (page) => page.evaluate(() => document.body.innerText);

// The login form's own button (the header may hold a logout form too).
const submitOfLogin = ['button[type="submit"]', 'input[type="submit"]', 'button:not([type])']
    .map((b) => `form:has(input[name="token"]) ${b}`).join(', ');

async function login(context) {
  const page = await watchedPage(context);
  await open(page, pages.login);
  await page.type('input[name="token"]', token);
  await Promise.all([
    page.waitForNavigation({waitUntil: 'load'}),
    page.click(submitOfLogin),
  ]);
  return page;
}

test('the overview renders every target with its data', async () => {
  const context = await browser.createBrowserContext();
  const page = await watchedPage(context);
  await open(page, pages.overview);
  for (const name of [fixture.target, fixture.other_target]) {
    const row = await page.$(`tr[data-target="${name}"]`);
    assert.ok(row, `no row tr[data-target="${name}"] on the overview`);
  }
  const row = await page.$eval(`tr[data-target="${fixture.target}"]`, (e) => e.innerText);
  assert.match(row, /failed/i, `the target with a failed job does not say so: ${row}`);
  assert.ok(await page.$('main'), 'no <main>');
  for (const asset of ['/assets/app.js', '/assets/app.css']) {
    const loaded = await page.evaluate(
        (a) => performance.getEntriesByType('resource').some((r) => r.name.endsWith(a)), asset);
    assert.ok(loaded, `${asset} was not loaded`);
  }
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('no page has console errors, failed requests or dialogs', async () => {
  const context = await browser.createBrowserContext();
  const problems = [];
  for (const [name, route] of Object.entries(pages)) {
    const page = await watchedPage(context);
    await open(page, route);
    assert.ok(await page.$('main'), `${route}: no <main>`);
    await settled(page);
    for (const p of [...page.problems, ...page.dialogs]) problems.push(`${name} ${route}: ${p}`);
    await page.close();
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('the job tables list the jobs', async () => {
  const context = await browser.createBrowserContext();
  const page = await watchedPage(context);
  for (const route of [pages.target, pages.jobs]) {
    await open(page, route);
    for (const id of [fixture.pause_job, fixture.failed_job, fixture.background_job]) {
      const status = await page.$(
          `tr[data-job-id="${id}"][data-target="${fixture.target}"] td[data-field="status"]`);
      assert.ok(status, `${route}: no row for job ${id} with a status cell`);
    }
    const failed = await page.$eval(
        `tr[data-job-id="${fixture.failed_job}"][data-target="${fixture.target}"] ` +
            'td[data-field="status"]',
        (e) => e.innerText.trim());
    assert.equal(failed, 'failed', `${route}: the failed job's status`);
  }
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('the login form takes the token, sets a session cookie and leads to the overview', async () => {
  const wrongContext = await browser.createBrowserContext();
  const wrong = await watchedPage(wrongContext);
  await open(wrong, pages.login);
  await wrong.type('input[name="token"]', 'not-the-token');
  await Promise.all([
    wrong.waitForNavigation({waitUntil: 'load'}).catch(() => {}),
    wrong.click(submitOfLogin),
  ]);
  const wrongCookies = await wrongContext.cookies();
  assert.deepEqual(wrongCookies.map((c) => c.name), [], 'a wrong token got a cookie');
  await wrongContext.close();

  const context = await browser.createBrowserContext();
  const page = await login(context);
  assert.equal(new URL(page.url()).pathname, '/', `after login: ${page.url()}`);
  const cookies = await context.cookies();
  assert.ok(cookies.length > 0, 'no session cookie after login');
  for (const cookie of cookies) {
    assert.ok(cookie.httpOnly, `cookie ${cookie.name} is readable by scripts`);
    assert.ok(!cookie.value.includes(token), `cookie ${cookie.name} holds the token itself`);
  }
  assert.deepEqual(page.problems, []);
  await context.close();
});

// Waits until the job page's status reads `status`; the page must not have been reloaded
// (the marker set on its window before would be gone).
async function waitForStatus(page, status, what) {
  try {
    await page.waitForFunction(
        (s) => document.querySelector('[data-field="status"]')?.innerText.trim() === s,
        {timeout: 10_000}, status);
  } catch {
    const shown = await page.$eval('[data-field="status"]', (e) => e.innerText.trim());
    assert.fail(`${what}: the status shows "${shown}", not "${status}", after 10 s`);
  }
  const marker = await page.evaluate(() => window.__tandemBrowserTest);
  assert.equal(marker, 'set before the click', `${what}: the page was reloaded`);
}

test('Pause on a job page pauses the job and the page updates live', async () => {
  const context = await browser.createBrowserContext();
  const page = await login(context);
  await open(page, pages.queued_job);
  await page.waitForFunction(
      () => document.querySelector('#live')?.innerText.trim().toLowerCase() === 'live',
      {timeout: 10_000});
  assert.equal(await page.$eval('[data-field="status"]', (e) => e.innerText.trim()), 'queued');
  await page.evaluate(() => { window.__tandemBrowserTest = 'set before the click'; });
  let navigated = 0;
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigated++; });

  await page.click('button[data-action="pause"]');
  await waitForStatus(page, 'paused', 'after Pause');

  // A change made elsewhere (the API, as a script or the CLI would) reaches the open page
  // through the event stream.
  const resumed = await fetch(
      `${base}/api/jobs/${t(fixture.pause_job)}/resume?target=${t(fixture.target)}`,
      {method: 'POST', headers: {Authorization: `Bearer ${token}`}});
  assert.equal(resumed.status, 200, `POST resume: ${resumed.status} ${await resumed.text()}`);
  await waitForStatus(page, 'queued', 'after a resume through the API');

  await page.click('button[data-action="pause"]');
  await waitForStatus(page, 'paused', 'after a second Pause');
  assert.equal(navigated, 0, 'the page navigated');
  assert.deepEqual(page.problems, []);
  assert.deepEqual(page.dialogs, []);
  await context.close();
});

test('names, SQL and errors from the database render as text', async () => {
  const context = await browser.createBrowserContext();
  const dialogs = [];
  for (const route of [pages.overview, pages.target, pages.xss_migration, pages.migration,
    pages.job, pages.jobs, pages.events]) {
    const page = await watchedPage(context);
    await open(page, route);
    await settled(page);
    const injected = await page.evaluate(() => ({
      images: [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x')
          .length,
      bold: [...document.querySelectorAll('b')].filter((b) => b.innerText === 'archive').length,
      scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).map((s) => s.text)
          .filter((s) => s.includes('alert')).length,
    }));
    assert.deepEqual(injected, {images: 0, bold: 0, scripts: 0}, `${route}: markup was injected`);
    const shown = await text(page);
    if (route === pages.xss_migration || route === pages.target) {
      assert.ok(shown.includes(fixture.xss_name), `${route} does not show "${fixture.xss_name}"`);
    }
    if (route === pages.job || route === pages.migration) {
      assert.ok(shown.includes(fixture.xss_error), `${route} does not show "${fixture.xss_error}"`);
    }
    dialogs.push(...page.dialogs.map((d) => `${route}: ${d}`));
    await page.close();
  }
  assert.deepEqual(dialogs, [], 'a dialog opened: an injected script ran');
  await context.close();
});

test('a phone-sized screen shows every page without horizontal scrolling', async () => {
  const context = await browser.createBrowserContext();
  const wide = [];
  for (const [name, route] of Object.entries(pages)) {
    const page = await watchedPage(context, {viewport: {width: 375, height: 667}});
    await open(page, route);
    const {scroll, width, culprits} = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      // The outermost elements that stick out, outside any scrolling box: what to fix.
      const out = (e) => e.getBoundingClientRect().right > width + 0.5;
      const scrolled = (e) => {
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
          if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return true;
        }
        return false;
      };
      const culprits = [document.body, ...document.body.querySelectorAll('*')]
          .filter((e) => out(e) && !out(e.parentElement) && !scrolled(e))
          .slice(0, 3)
          .map((e) => `${e.tagName.toLowerCase()}${e.className ? '.' + e.className : ''} ` +
              `${Math.round(e.getBoundingClientRect().right)}px`);
      // Text that runs out of its box (a long word that does not wrap).
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n && culprits.length < 6; n = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(n);
        const right = range.getBoundingClientRect().right;
        if (right > width + 0.5 && !scrolled(n.parentElement) && !out(n.parentElement)) {
          culprits.push(`text "${n.textContent.trim().slice(0, 40)}" in ` +
              `${n.parentElement.tagName.toLowerCase()} ${Math.round(right)}px`);
        }
      }
      return {scroll: document.documentElement.scrollWidth, width, culprits};
    });
    if (scroll > width) {
      wide.push(`${name} ${route}: ${scroll}px wide in a ${width}px screen (${culprits.join(', ')})`);
    }
    await page.close();
  }
  assert.deepEqual(wide, []);
  await context.close();
});

test('without JavaScript the pages still show the data', async () => {
  const context = await browser.createBrowserContext();
  const page = await watchedPage(context, {javascript: false});
  await open(page, pages.overview);
  const row = await page.$(`tr[data-target="${fixture.target}"]`);
  assert.ok(row, 'no target row on the overview without JavaScript');
  assert.match(await page.$eval(`tr[data-target="${fixture.target}"]`, (e) => e.innerText),
      /failed/i);
  await open(page, pages.target);
  const failed = await page.$eval(
      `tr[data-job-id="${fixture.failed_job}"][data-target="${fixture.target}"] ` +
          'td[data-field="status"]',
      (e) => e.innerText.trim());
  assert.equal(failed, 'failed');
  await open(page, pages.job);
  assert.equal(await page.$eval('[data-field="status"]', (e) => e.innerText.trim()), 'failed');
  // The actions are plain forms: they work without JavaScript too.
  const form = await page.$eval('button[data-action="retry"]', (b) => b.form?.method);
  assert.equal(form, 'post', 'the retry button is not in a POST form');
  assert.deepEqual(page.problems, []);
  await context.close();
});

// Only when asked (bench/dashboard/screenshots.sh): the committed pictures are not made in CI.
if (screenshots) test('screenshots of every page', async () => {
  fs.mkdirSync(screenshots, {recursive: true});
  const shots = [
    ['overview', pages.overview], ['target', pages.target], ['migration', pages.migration],
    ['job', pages.job], ['background-job', pages.background_job], ['events', pages.events],
    ['jobs', pages.jobs],
  ];
  const loginContext = await browser.createBrowserContext();
  const loginPage = await watchedPage(loginContext);
  await open(loginPage, pages.login);
  await loginPage.screenshot({path: path.join(screenshots, 'dashboard-login.png')});
  await loginContext.close();

  const context = await browser.createBrowserContext();
  const page = await login(context);
  for (const [name, route] of shots) {
    await open(page, route);
    await page.waitForFunction(
        () => document.querySelector('#live')?.innerText.trim().toLowerCase() === 'live',
        {timeout: 5_000}).catch(() => {});
    await page.screenshot({path: path.join(screenshots, `dashboard-${name}.png`)});
  }
  await page.setViewport({width: 375, height: 667, deviceScaleFactor: 2});
  await open(page, pages.overview);
  await page.screenshot({path: path.join(screenshots, 'dashboard-phone.png')});
  await context.close();
});

// Opens a page written by `replaysim report` in Debian's chromium
// (playwright-core, the system browser) from a file: address with every
// other request refused, so the page must be self-contained.  Fails on any
// console error, page error, request that leaves the file or in-page link
// to nothing; follows a run's "worst windows" link and checks the target is
// shown; prints what the page shows as one JSON line (REPORT {...}) for the
// C test to compare with the run (or batch results) databases.
// Usage: node report_test.mjs REPORT.html
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

const [report] = process.argv.slice(2);
const fail = msg => { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(120000); // every wait is on a state; a busy machine is only slower
  const errors = [], outside = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  await page.route('**/*', route => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
  await page.waitForSelector('#summary-table tbody tr');

  const cells = await page.$$eval('td[data-metric][data-run][data-class]', tds => tds.map(td => ({
    run: Number(td.dataset.run), component: td.dataset.component, class: td.dataset.class,
    metric: td.dataset.metric, text: td.textContent, summary: !!td.closest('#summary-table'),
    ab: !!td.closest('table.ab'),
  })));
  const deltas = await page.$$eval('table.ab', tables => tables.flatMap(t => [...t.querySelectorAll('td.delta')].map(td => ({
    a: Number(t.dataset.a), b: Number(t.dataset.b), component: td.dataset.component, metric: td.dataset.metric,
    text: td.textContent, better: td.classList.contains('better'), worse: td.classList.contains('worse'),
  }))));
  const events = await page.$$eval('section[data-events]', secs => secs.map(s => ({
    events: Number(s.dataset.events), drawn: s.querySelectorAll('svg line.ev').length,
  })));
  const plots = await page.$$eval('svg[data-metric]', svgs => svgs.map(s => ({
    run: Number(s.dataset.run), component: s.dataset.component, metric: s.dataset.metric,
    windows: Number(s.dataset.windows), path: s.querySelector('path.line').getAttribute('d'),
  })));

  // The summary's worst-windows link of the first run leads to its list,
  // and the first entry of that list is a window row with its start time.
  await page.click('#summary-table tr[data-run="0"] a.worst-link');
  // Shown: the anchor is the target and the browser scrolled it into view.
  await page.waitForFunction(() => {
    const h = document.querySelector(':target');
    if (!location.hash.endsWith('-worst') || !h) return false;
    const r = h.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight;
  });
  const target = await page.evaluate(() => {
    const h = document.querySelector(':target');
    const first = h.nextElementSibling && h.nextElementSibling.querySelector('tbody tr');
    return {
      id: h.id, first: first && first.id, t0: first && first.dataset.t0,
      values: first ? Object.fromEntries([...first.querySelectorAll('td[data-metric]')].map(td => [td.dataset.metric, td.textContent])) : {},
    };
  });
  // A shaded worst window on a plot links to that window's row.
  const rect = await page.$(`svg a[href="#${target.first}"]`);
  if (!rect) fail('no plot marks the worst window ' + target.first);
  await page.evaluate(id => document.querySelector(`svg a[href="#${id}"]`).dispatchEvent(new MouseEvent('click', { bubbles: true })), target.first);
  await page.waitForFunction(id => location.hash === '#' + id, target.first);
  // Every link in the page leads to something on it (a batch's baseline
  // jobs have no section: nothing may point at one).
  const dangling = await page.$$eval('a[href^="#"]', as => as.map(a => a.getAttribute('href').slice(1))
    .filter(id => !document.getElementById(id)));
  if (dangling.length) fail('links to nothing: #' + [...new Set(dangling)].join(', #'));
  if (errors.length) fail('page errors: ' + errors.join('; '));
  if (outside.length) fail('the page asked for ' + outside.join(', '));
  console.log('REPORT ' + JSON.stringify({ cells, deltas, plots, target, events }));
  console.log('report ok');
} finally {
  await browser.close();
}

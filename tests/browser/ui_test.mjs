// Loads the web UI of `replaysim serve` in Debian's chromium (playwright-core,
// executablePath set to the system browser) and uses it as a person would:
// plays and sees sim time advance and detection boxes appear, pauses, seeks
// with the scrubber and checks the time shown, changes speed, and saves a
// screenshot.  The server requires a control token (--token): the page gets
// it in the address's fragment, as `serve` prints it, and every control
// above needs it; a page opened without it is refused.
// With a gate file (serve --gate) set to fail, it finds the gate markers
// under the timeline, their tooltips, and clicks one to go there; it sees
// the tracking scores beside the detection scores, and the bird's-eye view
// drawing matched, missed and false objects as /api/eval has them.
// Usage: node ui_test.mjs REPLAYSIM GRAPH DRIVE SCREENSHOT.png GATES.yaml
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

const [replaysim, graph, drive, shot, gates] = process.argv.slice(2);
const fail = msg => { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); };

const token = randomBytes(16).toString('hex');
const server = spawn(replaysim, ['serve', graph, '--store', drive, '--port', '0', '--token', token, '--gate', gates], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: server.stdout });
  rl.once('line', line => { const m = line.match(/:(\d+)\//); m ? resolve(Number(m[1])) : reject(new Error(line)); });
  server.once('exit', code => reject(new Error('server exited ' + code)));
});
const base = `http://127.0.0.1:${port}`;
const api = path => fetch(base + '/api/' + path).then(r => r.json());

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Generous: every wait below is on a state the UI must reach, never a
  // sleep, so a busy machine only makes the test slower, not red.
  page.setDefaultTimeout(120000);
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(base + '/#token=' + token);
  if (page.url().includes(token)) fail('the token stays in the address bar');
  const shown = () => page.$eval('#time', el => parseFloat(el.textContent));
  await page.waitForFunction(() => document.getElementById('mode').textContent.startsWith('paused'));
  if ((await shown()) !== 0) fail('the UI does not start at 0 s');

  // The bird's-eye view by outcome: a few steps in, the trackers have not
  // caught every object yet (missed truth) and fusion reports a camera-only
  // object no truth is near (false). What is drawn is what /api/eval has.
  while ((await api('state')).rel_ns < 60e6) {
    const before = (await api('state')).rel_ns;
    await page.click('#step');
    await page.waitForFunction(b => fetch('/api/state').then(r => r.json()).then(s => s.rel_ns > b), before);
  }
  await page.waitForFunction(() => Promise.all([fetch('/api/eval').then(r => r.json()), fetch('/api/truth').then(r => r.json())]).then(([d, t]) => {
    const b = document.body.dataset, ids = new Set(t.objects.map(o => o.id)), missed = new Set();
    let matched = 0, falsePos = 0;
    for (const c of d.components) if (c.objects) {
      for (const o of c.objects.truth) if (o.outcome === 'missed' && ids.has(o.id)) missed.add(o.id);
      for (const o of c.objects.tracks) { matched += o.outcome === 'matched'; falsePos += o.outcome === 'false'; }
    }
    return missed.size > 0 && matched > 0 && falsePos > 0 && Number(b.bevmissed) === missed.size &&
      Number(b.bevmatched) === matched && Number(b.bevfalse) === falsePos;
  }));
  const bev = await page.evaluate(() => ['bevmatched', 'bevmissed', 'bevfalse'].map(k => document.body.dataset[k]));
  console.log(`bird's-eye view by outcome: ${bev[0]} matched, ${bev[1]} missed (dashed), ${bev[2]} false`);

  await page.click('#play');
  await page.waitForFunction(() => parseFloat(document.getElementById('time').textContent) > 0.5);
  await page.waitForFunction(() => Number(document.body.dataset.boxes || 0) > 0);
  console.log('playing: time advances, boxes drawn:', await page.evaluate(() => document.body.dataset.boxes));

  // Play to the end (the 3 s drive ends by itself at 1x), then play again,
  // which starts over, and pause at 0.1x. Every wait is on a state the UI
  // must reach; pausing at 0.1x leaves the click 27 s of drive to land in.
  await page.waitForFunction(() => document.getElementById('mode').textContent.startsWith('ended'));
  console.log('ended at', await shown(), 's');
  await page.selectOption('#speed', '0.1');
  await page.waitForFunction(() => fetch('/api/state').then(r => r.json()).then(s => s.speed === 0.1));
  await page.click('#play');
  await page.waitForFunction(() => document.getElementById('mode').textContent.startsWith('playing') &&
    parseFloat(document.getElementById('time').textContent) < 1);
  console.log('play after the end starts over:', await shown(), 's');
  // A row of the components table takes a click while the run plays.
  await page.click('#comps tr[data-name="tracker"]');
  await page.waitForFunction(() => document.getElementById('detail').textContent.includes('radar_front'));
  console.log('components panel: a row clicked while playing');
  await page.click('#play'); // pause
  await page.waitForFunction(() => document.getElementById('mode').textContent.startsWith('paused'));
  console.log('paused:', await page.$eval('#mode', el => el.textContent));
  const st = await api('state');
  const half = (st.to - st.from) / 2 / 1e9;
  await page.$eval('#scrub', el => { el.value = 500; el.dispatchEvent(new Event('change')); });
  await page.waitForFunction(h => Math.abs(parseFloat(document.getElementById('time').textContent) - h) < 0.06, half);
  console.log(`seeked with the scrubber: ${await shown()} s shown, ${half.toFixed(3)} s asked`);
  const after = await api('state');
  if (Math.abs((after.sim_time - after.from) / 1e9 - half) > 0.06) fail('the run is not where the scrubber put it');

  await page.selectOption('#speed', '2');
  await page.waitForFunction(() => fetch('/api/state').then(r => r.json()).then(s => s.speed === 2));
  console.log('speed 2x');
  await page.keyboard.press('ArrowRight'); // +100 ms
  await page.waitForFunction(h => Math.abs(parseFloat(document.getElementById('time').textContent) - (h + 0.1)) < 0.06, half);
  console.log('→ moves 100 ms');

  await page.click('#comps tr[data-name="detector"]');
  await page.waitForFunction(() => document.getElementById('detail').textContent.includes('camera_front'));
  console.log('components panel: last inputs shown');

  // Scores so far: play the rest at max speed to the end; the panel then
  // shows the server's numbers (GET /api/eval), which no longer change.
  await page.selectOption('#speed', 'max');
  await page.waitForFunction(() => fetch('/api/state').then(r => r.json()).then(s => s.speed === 0));
  await page.click('#play');
  await page.waitForFunction(() => document.getElementById('mode').textContent.startsWith('ended'));
  await page.waitForFunction(() => fetch('/api/eval').then(r => r.json()).then(d => {
    const c = d.components.find(x => x.name === 'detector');
    const td = m => document.querySelector(`#scores tr[data-name="detector"] td[data-metric="${m}"]`);
    return c && c.scored > 0 && td('f1') && td('f1').textContent === c.so_far.f1.toFixed(3) &&
      td('tp').textContent === String(c.so_far.tp) && td('fp').textContent === String(c.so_far.fp);
  }));
  console.log('scores so far shown: detector F1', await page.$eval('#scores tr[data-name="detector"] td[data-metric="f1"]', el => el.textContent));
  // Tracking scores beside them: the tracks the graph's eval: block names.
  await page.waitForFunction(() => fetch('/api/eval').then(r => r.json()).then(d => {
    const c = d.components.find(x => x.name === 'tracker');
    const td = m => document.querySelector(`#trackscores tr[data-name="tracker"] td[data-metric="${m}"]`);
    return c && c.kind === 'tracking' && td('mota') && td('mota').textContent === c.so_far.mota.toFixed(3) &&
      td('idf1').textContent === c.so_far.idf1.toFixed(3) && td('switches').textContent === String(c.so_far.switches) &&
      getComputedStyle(document.getElementById('trackscores')).display !== 'none';
  }));
  console.log('tracking scores shown: tracker MOTA', await page.$eval('#trackscores tr[data-name="tracker"] td[data-metric="mota"]', el => el.textContent),
    'IDF1', await page.$eval('#trackscores tr[data-name="tracker"] td[data-metric="idf1"]', el => el.textContent));

  // Gate markers: the F1 gate fails in some windows; a diamond for each
  // under the timeline, its tooltip naming metric, value and threshold.
  const gateMarks = () => fetch(base + '/api/eval').then(r => r.json()).then(d => d.marks.filter(m => m.kind === 'gate'));
  await page.waitForFunction(() => fetch('/api/eval').then(r => r.json()).then(d => {
    const n = d.marks.filter(m => m.kind === 'gate').length;
    return n > 0 && document.querySelectorAll('#plot .mark.gate').length === n && Number(document.body.dataset.gatemarks) === n;
  }));
  const marksAtEnd = await gateMarks();
  const tips = await page.$$eval('#plot .mark.gate title', els => els.map(e => e.textContent));
  for (const t of tips) if (!/f1 [0-9.]+ below min 0\.99/.test(t)) fail('a gate marker\'s tooltip does not name metric, value and threshold: ' + t);
  if (new Set(marksAtEnd.map(m => m.gate + ' ' + m.rel_ns)).size !== marksAtEnd.length) fail('a gate marker twice');
  const last = marksAtEnd.reduce((a, m) => (m.rel_ns > a.rel_ns ? m : a));
  if (!(last.rel_ns > 0)) fail('no gate marker after the start to click');
  await page.click(`#plot .mark.gate[data-rel="${last.rel_ns}"]`);
  await page.waitForFunction(r => Math.abs(parseFloat(document.getElementById('time').textContent) - r / 1e9) < 0.0015, last.rel_ns);
  const atGate = await api('state');
  if (atGate.rel_ns !== last.rel_ns) fail(`the gate marker at ${last.rel_ns} ns went to ${atGate.rel_ns} ns`);
  console.log(`a gate marker clicked: went to ${(last.rel_ns / 1e9).toFixed(3)} s (${tips.length} markers: ${tips[0]})`);
  // Played on from there, the same markers again, none twice.
  await page.click('#play');
  await page.waitForFunction(() => document.getElementById('mode').textContent.startsWith('ended'));
  await page.waitForFunction(n => fetch('/api/eval').then(r => r.json()).then(d =>
    fetch('/api/state').then(r => r.json()).then(s => d.sim_time === s.sim_time &&
      document.querySelectorAll('#plot .mark.gate').length === n)), marksAtEnd.length);
  if (JSON.stringify(await gateMarks()) !== JSON.stringify(marksAtEnd)) fail('played again, the gate markers differ');
  console.log('gate markers the same after a seek back and play');

  // A timeout mark (the tracker's 1 us budget) on the plot: a click goes there.
  await page.waitForFunction(() => document.querySelectorAll('#plot .mark.timeout').length > 2);
  const rel = await page.$$eval('#plot .mark.timeout', els => Number(els[Math.floor(els.length / 2)].dataset.rel));
  await page.click(`#plot .mark.timeout[data-rel="${rel}"]`);
  await page.waitForFunction(r => Math.abs(parseFloat(document.getElementById('time').textContent) - r / 1e9) < 0.0015, rel);
  const there = await api('state');
  if (there.rel_ns !== rel) fail(`the mark at ${rel} ns went to ${there.rel_ns} ns`);
  console.log(`a mark clicked: went to ${(rel / 1e9).toFixed(3)} s`);

  // Box styles: the boxes drawn are the scored image's, by outcome. Step
  // back until the image shown has a false positive (the demo detector
  // finds some cyclists and pedestrians twice), then see it drawn so.
  const outcome = () => fetch(base + '/api/eval').then(r => r.json());
  const same = () => page.waitForFunction(() => fetch('/api/eval').then(r => r.json()).then(d => {
    if (!d.boxes) return false;
    const n = k => d.boxes.detections.filter(o => o.outcome === k).length;
    const b = document.body.dataset;
    return Number(b.matched) === n('matched') && Number(b.false) === n('false') &&
      Number(b.missed) === d.boxes.truth.filter(o => o.outcome === 'missed').length;
  }));
  let falsePos = 0;
  for (let before = (await api('state')).rel_ns; !falsePos && before >= 1e8; before = (await api('state')).rel_ns) {
    await page.keyboard.press('ArrowLeft'); // -100 ms
    await page.waitForFunction(b => fetch('/api/eval').then(r => r.json()).then(d =>
      fetch('/api/state').then(r => r.json()).then(s => s.rel_ns < b && d.sim_time === s.sim_time)), before);
    const d = await outcome();
    falsePos = d.boxes ? d.boxes.detections.filter(o => o.outcome === 'false').length : 0;
  }
  if (!falsePos) fail('no image with a false positive before the mark');
  await same();
  await page.waitForFunction(n => Number(document.body.dataset.false) === n && Number(document.body.dataset.matched) > 0, falsePos);
  console.log(`false positives drawn: ${falsePos} false, ${await page.evaluate(() => document.body.dataset.matched)} matched boxes`);
  await page.screenshot({ path: shot });
  console.log('screenshot', shot);
  if (errors.length) fail('page errors: ' + errors.join('; '));

  // A page opened without the token: its step is refused, said so, and the run stays put.
  const before = await api('state');
  const bare = await browser.newPage();
  bare.setDefaultTimeout(120000);
  await bare.goto(base + '/');
  await bare.waitForFunction(() => document.getElementById('mode').textContent.startsWith('paused'));
  await bare.click('#step');
  await bare.waitForFunction(() => document.getElementById('events').textContent.includes('token is needed'));
  const still = await api('state');
  if (still.sim_time !== before.sim_time || still.instants !== before.instants) fail('a control without the token moved the run');
  console.log('without the token:', await bare.$eval('#events', el => el.textContent));
  console.log('ui ok');
} finally {
  await browser.close();
  server.kill('SIGTERM');
}

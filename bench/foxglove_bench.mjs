// What a Foxglove client costs a replay (docs/benchmarks.md §14): plays the
// drive served by `replaysim serve --foxglove` with no Foxglove client, then
// with one subscribed to every channel (reading and counting all it is
// sent), at max speed (wall time to the end) and at 1x (the player's lag,
// sampled from /api/state 20 times a second: p50, p99, max), REPS times
// each (default 3), interleaved, medians shown.
// Usage: node bench/foxglove_bench.mjs REPLAYSIM GRAPH DRIVE
//   (uses the npm packages of tests/browser: run `npm ci` there first)
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../tests/browser/package.json', import.meta.url)));
const { FoxgloveClient } = require('@foxglove/ws-protocol');
const WebSocket = require('ws');
const [replaysim, graph, drive] = process.argv.slice(2);

async function serve() {
  const p = spawn(replaysim, ['serve', graph, '--store', drive, '--port', '0', '--foxglove', '--foxglove-port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise((resolve, reject) => {
    let http = 0;
    createInterface({ input: p.stdout }).on('line', l => {
      const m = l.match(/^serving .* on http:\/\/[^:]+:(\d+)\//), f = l.match(/^foxglove: ws:\/\/[^:]+:(\d+)/);
      if (m) http = Number(m[1]);
      if (f) resolve([http, Number(f[1])]);
    });
    p.once('exit', c => reject(new Error('serve exited ' + c)));
  });
  return { p, http: ports[0], fox: ports[1] };
}

async function run(speed, withClient) {
  const s = await serve();
  const api = (path, method = 'GET') => fetch(`http://127.0.0.1:${s.http}/api/${path}`, { method }).then(r => r.json());
  let stats = { msgs: 0, bytes: 0 }, client;
  if (withClient) {
    const ws = new WebSocket(`ws://127.0.0.1:${s.fox}/`, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    client = new FoxgloveClient({ ws });
    client.on('error', () => {}); // PlaybackState is newer than this client
    await new Promise(resolve => client.on('advertise', chs => { for (const c of chs) client.subscribe(c.id); resolve(); }));
    client.on('message', m => { stats.msgs++; stats.bytes += m.data.byteLength; });
  }
  await api(`speed?x=${speed}`, 'POST');
  const t0 = performance.now();
  await api('play', 'POST');
  const lags = [];
  let st;
  for (;;) {
    st = await api('state');
    if (st.mode === 'ended') break;
    lags.push(st.lag_ms);
    await new Promise(r => setTimeout(r, 50));
  }
  const wall = (performance.now() - t0) / 1e3, span = st.span_ns / 1e9;
  client?.close();
  s.p.kill();
  lags.sort((a, b) => a - b);
  const q = f => lags.length ? lags[Math.min(lags.length - 1, Math.floor(f * lags.length))] : 0;
  return { speed, withClient, wall, span, x: span / wall, p50: q(0.5), p99: q(0.99), max: st.max_lag_ms, ...stats };
}

const reps = Number(process.env.REPS || 3);
await run('max', false); // once to warm the page cache: the first run reads the drive from disk
// Interleaved (none, client, none, client, ...) so that a change of the
// machine's load falls on both; the median of the runs is shown.
const med = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${reps} runs each, interleaved; medians`);
console.log('| speed | Foxglove client | wall (s) | replay speed | lag p50 / p99 / max (ms) | messages | MB sent |');
console.log('|---|---|---|---|---|---|---|');
for (const speed of ['max', '1']) {
  const rs = { false: [], true: [] };
  for (let i = 0; i < reps; i++) for (const withClient of [false, true]) rs[withClient].push(await run(speed, withClient));
  for (const withClient of [false, true]) {
    const r = rs[withClient], m = k => med(r.map(x => x[k]));
    console.log(`| ${speed} | ${withClient ? 'subscribed to everything' : 'none'} | ${m('wall').toFixed(2)} | ${m('x').toFixed(2)}x | ` +
      `${m('p50').toFixed(1)} / ${m('p99').toFixed(1)} / ${m('max').toFixed(1)} | ${withClient ? m('msgs') : '-'} | ${withClient ? (m('bytes') / 1e6).toFixed(1) : '-'} |`);
  }
}

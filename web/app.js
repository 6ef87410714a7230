// replaysim web UI: controls and state over the JSON API and the stream (docs/server.md).
let state = null, seen = -1;
const $ = id => document.getElementById(id);
const post = (path) => fetch('/api/' + path, {method: 'POST'}).then(r => r.json());
$('play').onclick = () => post(state && state.mode === 'playing' ? 'pause' : 'play');
$('step').onclick = () => post('step');
$('back').onclick = () => post('step_back');
$('speed').onchange = e => post('speed?x=' + e.target.value);
$('scrub').onchange = e => { if (state) post('seek?t=' + Math.round(state.from + (state.to - state.from) * e.target.value / 1000)); };
document.addEventListener('keydown', e => {
  if (!state) return;
  const ms = e.shiftKey ? 10 : e.altKey ? 500 : 100;
  if (e.code === 'Space') { e.preventDefault(); $('play').click(); }
  else if (e.key === 'ArrowRight') post('seek?t=' + (state.sim_time + ms * 1e6));
  else if (e.key === 'ArrowLeft') post('seek?t=' + (state.sim_time - ms * 1e6));
  else if (e.key === '.') post('step');
});
function show(s) {
  state = s;
  $('time').textContent = ((s.sim_time - s.from) / 1e9).toFixed(3) + ' s';
  $('mode').textContent = s.mode + (s.lag_ms > 50 ? ' · behind ' + s.lag_ms.toFixed(0) + ' ms' : '');
  $('play').textContent = s.mode === 'playing' ? '⏸' : '▶';
  if (document.activeElement !== $('scrub')) $('scrub').value = s.to > s.from ? 1000 * (s.sim_time - s.from) / (s.to - s.from) : 0;
  $('comps').innerHTML = s.components.map(c => `<tr><td>${c.name}</td><td>${c.calls}</td><td>${c.outputs}</td><td>${c.errors}</td><td>${c.mean_us.toFixed(1)}</td><td class="out">${c.output === undefined ? '' : JSON.stringify(c.output).replace(/</g, '&lt;')}</td></tr>`).join('');
  for (const ev of s.events || []) if (ev.id > seen) { seen = ev.id; if (ev.message) $('events').textContent = ev.kind + ': ' + ev.message; }
}
function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/', 'rsim');
  ws.onmessage = m => show(JSON.parse(m.data));
  ws.onclose = () => setTimeout(connect, 1000);
}
connect();

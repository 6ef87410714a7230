// replaysim web UI: controls, camera view with detections, bird's-eye view,
// components; all from the JSON API and the state stream (docs/server.md).
'use strict';
const $ = id => document.getElementById(id);
let state = null, seen = -1, camera = null, lidar = null;
const layers = {};
const view = { frame: null, points: [], truth: [], shownTime: null, busy: false };
const bev = { scale: 6, panX: 0, panY: 0, drag: null };
const colours = { car: '#4aa3ff', truck: '#ffb547', pedestrian: '#ff5f7e', cyclist: '#7ee081' };

// The control token (docs/server.md): `serve` prints the page's address with
// #token=...; a fragment never reaches the server or its logs. Kept for this
// tab only and taken out of the address bar, then sent on every API request.
// (The stream needs none: like GET /api/state it only reads.)
const token = (() => {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('rsim-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem('rsim-token');
})();
const api = (path, init = {}) => fetch('/api/' + path, token ? { ...init, headers: { Authorization: 'Bearer ' + token } } : init);
const post = path => api(path, { method: 'POST' }).then(r => r.json()).then(s => { if (s.error) $('events').textContent = 'error: ' + s.error; });
$('play').onclick = () => post(state && state.mode === 'playing' ? 'pause' : 'play');
$('step').onclick = () => post('step');
$('back').onclick = () => post('step_back');
$('speed').onchange = e => post('speed?x=' + e.target.value);
// Seeks go by ns into the range (`rel`): epoch ns do not fit a JavaScript number exactly.
const relNow = () => state.rel_ns;
$('scrub').onchange = e => { if (state) post('seek?rel=' + Math.round(state.span_ns * e.target.value / 1000)); };
document.querySelectorAll('#layers input').forEach(cb => { layers[cb.dataset.layer] = cb.checked; cb.onchange = () => { layers[cb.dataset.layer] = cb.checked; draw(); }; });
document.addEventListener('keydown', e => {
  if (!state || e.target.tagName === 'SELECT') return;
  const ms = e.shiftKey ? 10 : e.altKey ? 500 : 100;
  if (e.code === 'Space') { e.preventDefault(); $('play').click(); }
  else if (e.key === 'ArrowRight') { e.preventDefault(); post('seek?rel=' + (relNow() + ms * 1e6)); }
  else if (e.key === 'ArrowLeft') { e.preventDefault(); post('seek?rel=' + Math.max(-1, relNow() - ms * 1e6)); }
  else if (e.key === '.') post('step');
});

// Bird's-eye view: x forward is up, y left is left; drag pans, wheel zooms.
const bevCanvas = $('bev');
bevCanvas.onmousedown = e => { bev.drag = [e.clientX - bev.panX, e.clientY - bev.panY]; };
window.onmouseup = () => { bev.drag = null; };
window.onmousemove = e => { if (bev.drag) { bev.panX = e.clientX - bev.drag[0]; bev.panY = e.clientY - bev.drag[1]; draw(); } };
bevCanvas.onwheel = e => { e.preventDefault(); bev.scale = Math.min(60, Math.max(1, bev.scale * (e.deltaY < 0 ? 1.2 : 1 / 1.2))); draw(); };
function toBev(x, y) {
  const w = bevCanvas.width, h = bevCanvas.height;
  return [w / 2 - y * bev.scale + bev.panX, h * 0.8 - x * bev.scale + bev.panY];
}

// Outputs by their WIT shape, as the MCAP recorder sorts them.
const outputs = () => (state ? state.components : []).filter(c => c.output !== undefined);
const withBbox = () => outputs().filter(c => Array.isArray(c.output) && c.output.length && c.output[0].bbox);
const withPosition = () => outputs().filter(c => Array.isArray(c.output) && c.output.length && c.output[0].position);
const withPoints = () => outputs().filter(c => c.output && Array.isArray(c.output.points));

function drawCamera() {
  const cv = $('cam'), g = cv.getContext('2d');
  g.fillStyle = '#0c0d10';
  g.fillRect(0, 0, cv.width, cv.height);
  if (view.frame) g.drawImage(view.frame, 0, 0, cv.width, cv.height);
  const sx = view.frame ? cv.width / view.frame.width : 1, sy = view.frame ? cv.height / view.frame.height : 1;
  let boxes = 0;
  // With scores (GET /api/eval), the last scored image's boxes by outcome:
  // matched in the class colour, false positives red and crossed, truth
  // missed dashed, detections of ignored truth thin grey.
  const scored = evalView.data && evalView.data.boxes;
  const count = { matched: 0, false: 0, missed: 0, ignored: 0 };
  if (layers.boxes && scored) {
    for (const o of scored.detections) {
      boxes++; count[o.outcome]++;
      const x = o.x * sx, y = o.y * sy, w = o.width * sx, h = o.height * sy;
      const col = o.outcome === 'false' ? '#ff3b3b' : o.outcome === 'ignored' ? '#8a8f98' : colours[o.class] || '#ffffff';
      g.setLineDash([]); g.strokeStyle = col; g.lineWidth = o.outcome === 'ignored' ? 1 : 2;
      g.strokeRect(x, y, w, h);
      if (o.outcome === 'false') { g.beginPath(); g.moveTo(x, y); g.lineTo(x + w, y + h); g.moveTo(x + w, y); g.lineTo(x, y + h); g.stroke(); }
      g.fillStyle = col; g.font = '12px system-ui';
      g.fillText(o.outcome === 'false' ? `false ${o.class}` : o.class, x, Math.max(12, y - 3));
    }
    for (const o of scored.truth) if (o.outcome === 'missed') {
      count.missed++;
      g.setLineDash([5, 4]); g.strokeStyle = '#ffffff'; g.lineWidth = 2;
      g.strokeRect(o.x * sx, o.y * sy, o.width * sx, o.height * sy);
      g.fillStyle = '#ffffff'; g.fillText(`missed ${o.class}`, o.x * sx, o.y * sy + o.height * sy + 12);
    }
    g.setLineDash([]);
  } else if (layers.boxes) for (const c of withBbox()) for (const o of c.output) {
    boxes++;
    const b = o.bbox, col = colours[o.class] || '#ffffff';
    g.strokeStyle = col; g.lineWidth = 2;
    g.strokeRect(b.x * sx, b.y * sy, b.width * sx, b.height * sy);
    g.fillStyle = col; g.font = '12px system-ui';
    g.fillText(`${o.class} ${(o.confidence * 100).toFixed(0)}%`, b.x * sx, Math.max(12, b.y * sy - 3));
  }
  // For the browser test: boxes now, by outcome, and the outcomes seen so far.
  document.body.dataset.boxes = boxes;
  for (const k of ['matched', 'false', 'missed']) {
    document.body.dataset[k] = count[k];
    if (count[k]) evalView.seen[k] = true;
  }
  document.body.dataset.seen = Object.keys(evalView.seen).sort().join(' ');
  if (layers.overlay && state) {
    g.fillStyle = 'rgba(0,0,0,0.55)'; g.fillRect(0, 0, 250, 22);
    g.fillStyle = '#e6e6e6'; g.font = '13px ui-monospace, monospace';
    const lag = state.lag_ms > 50 ? `  behind ${state.lag_ms.toFixed(0)} ms` : '';
    g.fillText(`t ${(state.rel_ns / 1e9).toFixed(3)} s  ${state.speed ? state.speed + 'x' : 'max'}${lag}`, 6, 15);
  }
}

function drawBev() {
  const g = bevCanvas.getContext('2d'), w = bevCanvas.width, h = bevCanvas.height;
  g.fillStyle = '#0c0d10'; g.fillRect(0, 0, w, h);
  g.strokeStyle = '#22262d'; g.lineWidth = 1;
  for (let m = -100; m <= 200; m += 10) { // a 10 m grid
    let [x0, y0] = toBev(m, -100), [x1, y1] = toBev(m, 100); g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke();
    [x0, y0] = toBev(-100, m); [x1, y1] = toBev(200, m); g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke();
  }
  if (layers.lidar) {
    g.fillStyle = '#5b6b7a';
    for (let i = 0; i + 2 < view.points.length; i += 3) { const [px, py] = toBev(view.points[i], view.points[i + 1]); g.fillRect(px, py, 1.5, 1.5); }
  }
  const box = (x, y, len, wid, hd, col, dashed) => {
    const [cx, cy] = toBev(x, y); g.save(); g.translate(cx, cy); g.rotate(-(hd || 0));
    g.strokeStyle = col; g.lineWidth = 2; g.setLineDash(dashed ? [4, 3] : []);
    g.strokeRect(-wid * bev.scale / 2, -len * bev.scale / 2, wid * bev.scale, len * bev.scale); g.restore();
  };
  // With scores (GET /api/eval), the tracks of the last scored frame by
  // outcome, as on the camera: truth a shown component missed dashed white,
  // other truth thin grey; outputs matched in their colour, false ones red
  // and crossed.  Outputs are found among the scored ones by position.
  const scoredObjs = new Map(), missedIds = new Set();
  for (const c of (evalView.data ? evalView.data.components : [])) if (c.objects) scoredObjs.set(c.name, c.objects);
  const shown = withPosition().filter(c => {
    const fused = c.output[0].classification !== undefined;
    return fused ? layers.fused : layers.tracks;
  });
  for (const c of shown) { const s = scoredObjs.get(c.name); if (s) for (const o of s.truth) if (o.outcome === 'missed') missedIds.add(o.id); }
  const bevCount = { matched: 0, missed: 0, false: 0 };
  if (layers.truth) for (const o of view.truth) {
    const missed = missedIds.has(o.id);
    box(o.x, o.y, o.length, o.width, o.heading, missed ? '#ffffff' : '#8a8f98', missed);
    if (missed) {
      bevCount.missed++;
      const [px, py] = toBev(o.x, o.y); g.fillStyle = '#ffffff'; g.font = '11px system-ui'; g.fillText('missed', px + 8, py);
    }
  }
  const cross = (px, py) => { g.strokeStyle = '#ff3b3b'; g.lineWidth = 2; g.setLineDash([]); g.beginPath(); g.moveTo(px - 6, py - 6); g.lineTo(px + 6, py + 6); g.moveTo(px + 6, py - 6); g.lineTo(px - 6, py + 6); g.stroke(); };
  for (const c of shown) {
    const fused = c.output[0].classification !== undefined, s = scoredObjs.get(c.name);
    for (const o of c.output) {
      const hit = s && s.tracks.find(h => Math.abs(h.x - o.position.x) < 0.006 && Math.abs(h.y - o.position.y) < 0.006);
      const outcome = hit ? hit.outcome : null;
      if (outcome) bevCount[outcome]++;
      const col = outcome === 'false' ? '#ff3b3b' : fused ? colours[o.classification] || '#ffffff' : '#f5d76e';
      const [px, py] = toBev(o.position.x, o.position.y);
      if (fused) box(o.position.x, o.position.y, 4.5, 1.9, 0, col, false);
      else { g.strokeStyle = col; g.lineWidth = 2; g.setLineDash([]); g.beginPath(); g.arc(px, py, 5, 0, 7); g.stroke(); }
      if (outcome === 'false') cross(px, py);
    }
  }
  // For the browser test: objects by outcome now, and the outcomes seen so far.
  for (const k of ['matched', 'missed', 'false']) {
    document.body.dataset['bev' + k] = bevCount[k];
    if (bevCount[k]) evalView.bevSeen[k] = true;
  }
  document.body.dataset.bevseen = Object.keys(evalView.bevSeen).sort().join(' ');
  if (layers.plan) for (const c of withPoints()) {
    g.strokeStyle = '#7ee081'; g.lineWidth = 3; g.setLineDash([]); g.beginPath();
    c.output.points.forEach((p, i) => { const [px, py] = toBev(p.x, p.y); i ? g.lineTo(px, py) : g.moveTo(px, py); }); g.stroke();
  }
  box(0, 0, 4.6, 1.9, 0, '#ffffff', false); // the ego car
}

function draw() { drawCamera(); drawBev(); }

// Scores so far (GET /api/eval, docs/server.md): a row a scored component
// (detections and tracks in tables of their own), and under the timeline
// each metric a window with the marks of faults and timeouts and the
// markers of gates broken (serve --gate). Rows, lines and marks are made once and changed in
// place, so that a click lands on the mark it was aimed at while the stream
// updates them.
const evalView = { busy: false, shownTime: null, data: null, off: false, seen: {}, bevSeen: {} };
const ratios = new Set(['precision', 'recall', 'f1']);
const scoreRows = new Map(), plotLines = new Map(), plotMarks = new Map();
const SVGNS = 'http://www.w3.org/2000/svg';
async function refreshEval() {
  if (evalView.off || evalView.busy || !state || evalView.shownTime === state.sim_time) return;
  evalView.busy = true;
  try {
    const r = await api('eval');
    const d = await r.json();
    if (r.status === 404) { evalView.off = true; $('scoretitle').textContent = d.error; return; }
    // Scored up to the server's last poll: asked again while that is behind the time shown.
    evalView.data = d;
    evalView.shownTime = d.sim_time;
    showScores();
    draw();
  } finally { evalView.busy = false; }
}
const detCols = ['name', 'scored', 'tp', 'fp', 'fn', 'precision', 'recall', 'f1'];
const trkCols = ['name', 'scored', 'mota', 'motp', 'idf1', 'switches', 'misses', 'false_positives'];
const trkRatios = new Set(['mota', 'motp', 'idf1']);
function showScores() {
  const d = evalView.data;
  for (const c of d.components) {
    const tracking = c.kind === 'tracking', cols = tracking ? trkCols : detCols;
    const table = $(tracking ? 'trackscores' : 'scores');
    let tr = scoreRows.get(c.name);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.name = c.name;
      for (const m of cols) { const td = document.createElement('td'); td.dataset.metric = m; tr.appendChild(td); }
      table.tBodies[0].appendChild(tr);
      table.classList.remove('empty');
      scoreRows.set(c.name, tr);
    }
    for (const td of tr.children) {
      const m = td.dataset.metric, v = m === 'name' ? c.name : m === 'scored' ? c.scored : c.so_far[m];
      const text = v === null || v === undefined ? '–' : ratios.has(m) || trkRatios.has(m) ? v.toFixed(3) : String(v);
      if (td.textContent !== text) td.textContent = text;
    }
  }
  showGates(d.gates || []);
  drawPlot();
}
// The gates of `serve --gate` (docs/server.md): each with its state so far.
function showGates(gates) {
  const ul = $('gates');
  while (ul.children.length > gates.length) ul.lastChild.remove();
  gates.forEach((g, i) => {
    let li = ul.children[i];
    if (!li) { li = document.createElement('li'); ul.appendChild(li); }
    const bound = [g.min !== null ? `≥ ${g.min}` : '', g.max !== null ? `≤ ${g.max}` : ''].filter(Boolean).join(' ');
    const now = !g.live ? `not checked while playing: ${g.why}`
      : `${g.so_far === null ? "–" : Number.isInteger(g.so_far) ? g.so_far : g.so_far.toFixed(3)} so far` + (g.scope === 'window' ? `, ${g.windows_failed} window(s) failed` : g.failing_now ? ', failing' : '');
    const text = `gate ${g.gate}: ${g.component} ${g.metric} ${bound} (${g.scope}${g.class !== 'all' ? ', ' + g.class : ''}): ${now}`;
    if (li.textContent !== text) li.textContent = text;
    li.classList.toggle('failing', !!(g.live && (g.failing_now || g.windows_failed)));
  });
}
function svgEl(kind, parent, cls) {
  const el = document.createElementNS(SVGNS, kind);
  if (cls) el.setAttribute('class', cls);
  parent.appendChild(el);
  return el;
}
function drawPlot() {
  const d = evalView.data, svg = $('plot');
  if (!d || !state || !(state.span_ns > 0)) return;
  const W = 1000, H = 80, x = rel => Math.max(0, Math.min(W, rel / state.span_ns * W)), y = v => H - 4 - v * (H - 14);
  for (const c of d.components) for (const m of (c.kind === 'tracking' ? ['mota', 'idf1'] : ratios)) {
    const key = c.name + ' ' + m;
    let path = plotLines.get(key);
    if (!path) { path = svgEl('path', svg, 'line ' + m); path.dataset.metric = m; plotLines.set(key, path); }
    let p = '', pen = false;
    for (const w of c.windows) {
      const v = w[m] === undefined || w[m] === null ? null : Math.max(0, Math.min(1, w[m])); // MOTA can be below 0
      if (v === null) { pen = false; continue; }
      p += `${pen ? 'L' : 'M'}${x(w.rel_ns).toFixed(1)} ${y(v).toFixed(1)}H${x(w.rel_ns + d.window_ns).toFixed(1)}`;
      pen = true;
    }
    if (path.getAttribute('d') !== p) path.setAttribute('d', p);
  }
  let now = svg.querySelector('.now');
  if (!now) { now = svgEl('line', svg, 'now'); now.setAttribute('y1', 0); now.setAttribute('y2', H); }
  now.setAttribute('x1', x(state.rel_ns)); now.setAttribute('x2', x(state.rel_ns));
  const keep = new Set();
  for (const mk of d.marks) {
    const key = `${mk.rel_ns} ${mk.kind} ${mk.component} ${mk.gate || ''}`;
    keep.add(key);
    if (plotMarks.has(key)) continue;
    let r;
    if (mk.kind === 'gate') { // a diamond along the bottom: a gate broken in the window that starts here
      r = svgEl('polygon', svg, 'mark gate');
      const cx = x(mk.rel_ns);
      r.setAttribute('points', `${cx - 6},${H - 7} ${cx},${H - 14} ${cx + 6},${H - 7} ${cx},${H}`);
      r.dataset.gate = mk.gate; r.dataset.metric = mk.metric; r.dataset.value = mk.value; r.dataset.threshold = mk.threshold;
    } else { // a bar along the top: a fault or a timeout
      r = svgEl('rect', svg, 'mark ' + mk.kind);
      r.setAttribute('x', x(mk.rel_ns) - 3); r.setAttribute('y', 0); r.setAttribute('width', 6); r.setAttribute('height', 12);
    }
    r.dataset.rel = mk.rel_ns;
    svgEl('title', r).textContent = `${(mk.rel_ns / 1e9).toFixed(3)} s ${mk.kind} ${mk.component}: ${mk.message}`;
    plotMarks.set(key, r);
  }
  for (const [key, r] of plotMarks) if (!keep.has(key)) { r.remove(); plotMarks.delete(key); }
  // For the browser test: marks drawn, the gate markers among them.
  document.body.dataset.marks = plotMarks.size;
  document.body.dataset.gatemarks = [...plotMarks.values()].filter(r => r.classList.contains('gate')).length;
}
$('plot').onclick = e => { const m = e.target.closest('.mark'); if (m) post('seek?rel=' + m.dataset.rel); };

// Frames and points come on the stream; the ground truth is fetched when the time changes.
async function refreshViews() {
  if (view.busy || !state || view.shownTime === state.sim_time) return;
  view.busy = true;
  const t = state.sim_time;
  try {
    const d = await api('truth').then(r => r.json());
    view.truth = d.objects || [];
    view.shownTime = t;
    draw();
  } finally { view.busy = false; }
}

function show(s) {
  state = s;
  $('time').textContent = (s.rel_ns / 1e9).toFixed(3) + ' s';
  $('mode').textContent = s.mode + (s.seeking ? ' · seeking to ' + ((s.seek_target - s.from) / 1e9).toFixed(1) + ' s' : '') +
    (s.lag_ms > 50 ? ' · behind ' + s.lag_ms.toFixed(0) + ' ms' : '');
  $('play').textContent = s.mode === 'playing' ? '■ pause' : '▶ play';
  if (document.activeElement !== $('scrub')) $('scrub').value = s.span_ns > 0 ? 1000 * s.rel_ns / s.span_ns : 0;
  $('dur').textContent = '/ ' + (s.span_ns / 1e9).toFixed(3) + ' s';
  showComponents(s.components);
  if (selected && s.sim_time !== detailTime) showDetail();
  for (const ev of s.events || []) if (ev.id > seen) { seen = ev.id; if (ev.message) $('events').textContent = ev.kind + ': ' + ev.message; }
  draw();
  refreshViews();
  refreshEval();
}

// The components panel: a click shows the component's last inputs and output.
// Rows are made once per component and their cells change in place, and only
// when their text does: rebuilding the table at the stream's 30 Hz detached
// the row under the pointer, so a click could never land while a run played.
let selected = null, detailTime = null;
const rows = new Map();
function showComponents(comps) {
  const body = $('comps');
  if (rows.size !== comps.length || comps.some(c => !rows.has(c.name))) {
    body.textContent = '';
    rows.clear();
    for (const c of comps) {
      const tr = document.createElement('tr');
      tr.dataset.name = c.name;
      for (let i = 0; i < 6; i++) tr.appendChild(document.createElement('td'));
      tr.lastChild.className = 'out';
      body.appendChild(tr);
      rows.set(c.name, tr);
    }
  }
  for (const c of comps) {
    const tr = rows.get(c.name);
    const text = [c.name, c.calls, c.outputs, c.errors, c.mean_us.toFixed(1), c.output === undefined ? '' : JSON.stringify(c.output)];
    text.forEach((t, i) => { const td = tr.children[i]; if (td.textContent !== String(t)) td.textContent = t; });
    tr.classList.toggle('sel', c.name === selected);
  }
}
$('comps').onclick = e => {
  const tr = e.target.closest('tr');
  if (!tr) return;
  selected = tr.dataset.name;
  for (const r of rows.values()) r.classList.toggle('sel', r === tr);
  showDetail();
};
// Only the latest request's answer is shown: under load an answer for the
// row clicked before (or an earlier time) can come after the one for the
// row clicked now, and showed the wrong component's inputs.
let detailAsked = 0;
function showDetail() {
  if (!selected || !state) return;
  detailTime = state.sim_time;
  const name = selected, asked = ++detailAsked;
  const c = state.components.find(x => x.name === name) || {};
  api('inputs?component=' + encodeURIComponent(name)).then(r => r.json()).then(d => {
    if (asked !== detailAsked) return;
    $('detailtitle').textContent = `${name}: last inputs and output`;
    const out = c.output === undefined ? 'none yet' : JSON.stringify(c.output, null, 1);
    $('detail').textContent = 'inputs ' + JSON.stringify(d.inputs, null, 1).slice(0, 6000) + '\n\noutput ' + out.slice(0, 6000) +
      (c.errors ? `\n\nerrors: ${c.errors}` : '');
  });
}

function connect() {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/', 'rsim');
  ws.binaryType = 'blob';
  ws.onmessage = m => {
    if (typeof m.data !== 'string') { // the camera frame (JPEG) of the state just before
      createImageBitmap(m.data).then(img => { view.frame = img; draw(); });
      return;
    }
    const d = JSON.parse(m.data);
    if (d.lidar) view.points = d.lidar.points;
    show(d);
  };
  ws.onclose = () => setTimeout(connect, 1000);
}

api('sensors').then(r => r.json()).then(d => {
  const first = k => (d.sensors.find(s => s.kind === k) || {}).id;
  camera = first('camera'); lidar = first('lidar');
  $('camtitle').textContent = camera ? 'camera · ' + camera : 'no camera';
  connect();
});

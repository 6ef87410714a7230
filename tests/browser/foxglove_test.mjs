// Drives `replaysim serve --foxglove` with a client from the Foxglove
// ecosystem (npm's @foxglove/ws-protocol FoxgloveClient over the `ws`
// package) as Foxglove's app does: it connects with subprotocol
// foxglove.websocket.v1, reads serverInfo and the channels, subscribes to
// every channel, decodes the protobuf ones with protobufjs from the
// advertised FileDescriptorSets and the JSON ones as JSON, plays, pauses,
// seeks forward and back and changes speed with PlaybackControlRequest, and
// sees PlaybackState and Time follow.  At a paused instant the camera frame
// is the web UI's /api/frame of that instant byte for byte, and every
// annotation box is drawn by `replaysim render --at` of that instant (its
// outline in the box's colour) and equals the detector's output in
// /api/state; the scenes are /api/truth and the tracker's output, and the
// graph's budget warnings arrive on /rsim/log.  A second client without the control token is refused.
// Every wait is on a state, never on time.
// Usage: node foxglove_test.mjs REPLAYSIM GRAPH DRIVE WORKDIR
import wsProtocol from '@foxglove/ws-protocol';
import protobuf from 'protobufjs';
import 'protobufjs/ext/descriptor/index.js';
import WebSocket from 'ws';

const { FoxgloveClient } = wsProtocol;
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

const [replaysim, graph, drive, workdir] = process.argv.slice(2);
const fail = msg => { console.error('FAIL: ' + msg); process.exitCode = 1; throw new Error(msg); };
const TIMEOUT = Number(process.env.FOX_TIMEOUT_MS || 180000); // generous: the machine may be loaded; never a sleep

const token = randomBytes(16).toString('hex');
const server = spawn(replaysim, ['serve', graph, '--store', drive, '--port', '0', '--token', token,
  '--foxglove', '--foxglove-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [port, foxPort] = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: server.stdout });
  let http = 0;
  rl.on('line', line => {
    const m = line.match(/^serving .* on http:\/\/[^:]+:(\d+)\//), f = line.match(/^foxglove: ws:\/\/[^:]+:(\d+)/);
    if (m) http = Number(m[1]);
    if (f) resolve([http, Number(f[1])]);
  });
  server.once('exit', code => reject(new Error('server exited ' + code)));
});
const base = `http://127.0.0.1:${port}`;
// Epoch ns do not fit a JavaScript number: big integers are read as strings (for BigInt).
const api = path => fetch(base + '/api/' + path).then(r => r.text()).then(t => JSON.parse(t.replace(/([:\[,])(-?\d{16,})(?=[,}\]])/g, '$1"$2"')));

// ---- a Foxglove client, and what it has seen -------------------------------------------
function connect(withToken) {
  const ws = new WebSocket(`ws://127.0.0.1:${foxPort}/${withToken ? '?token=' + token : ''}`,
    [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new FoxgloveClient({ ws });
  const seen = { info: null, channels: null, states: [], time: null, statuses: [], bySub: new Map(), waiters: [] };
  const poke = () => { for (const w of [...seen.waiters]) if (w.test()) { seen.waiters.splice(seen.waiters.indexOf(w), 1); w.resolve(); } };
  seen.until = (test, what) => test() ? Promise.resolve() : new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), TIMEOUT);
    seen.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
  });
  client.on('serverInfo', i => { seen.info = i; poke(); });
  client.on('advertise', ch => { seen.channels = ch; poke(); });
  client.on('status', s => { seen.statuses.push(s); poke(); });
  client.on('time', t => { seen.time = t.timestamp; poke(); });
  client.on('message', m => { seen.bySub.get(m.subscriptionId)?.push({ t: m.timestamp, data: new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength) }); poke(); });
  // PlaybackState (opcode 5) is newer than this client: read it off the socket.
  client.on('error', e => { if (!/opcode/i.test(e.message)) console.error('client error:', e.message); });
  ws.addEventListener('message', ev => {
    if (typeof ev.data === 'string') return;
    const b = Buffer.from(ev.data);
    if (b[0] !== 5) return;
    const n = b.readUInt32LE(15);
    seen.states.push({ status: b[1], time: b.readBigUInt64LE(2), speed: b.readFloatLE(10), didSeek: b[14] !== 0,
      requestId: b.subarray(19, 19 + n).toString() });
    poke();
  });
  const control = (cmd, speed, seek, requestId) => {
    const id = Buffer.from(requestId), b = Buffer.alloc(19 + id.length);
    b[0] = 3; b[1] = cmd === 'play' ? 0 : 1; b.writeFloatLE(speed, 2);
    b[6] = seek !== undefined ? 1 : 0; b.writeBigUInt64LE(seek ?? 0n, 7); b.writeUInt32LE(id.length, 15); id.copy(b, 19);
    ws.send(b);
  };
  return { ws, client, seen, control };
}

try {
  const a = connect(true);
  await a.seen.until(() => a.seen.info && a.seen.channels, 'serverInfo and advertise');
  const info = a.seen.info;
  for (const cap of ['time', 'playbackControl']) if (!info.capabilities.includes(cap)) fail('serverInfo lacks ' + cap);
  const state0 = await api('state');
  const startNs = BigInt(info.dataStartTime.sec) * 1000000000n + BigInt(info.dataStartTime.nsec);
  const endNs = BigInt(info.dataEndTime.sec) * 1000000000n + BigInt(info.dataEndTime.nsec);
  if (startNs !== BigInt(state0.from) || endNs !== BigInt(state0.to)) fail(`data range ${startNs}..${endNs} is not the run's ${state0.from}..${state0.to}`);
  console.log(`serverInfo: ${info.capabilities.join(', ')}; ${a.seen.channels.length} channels:`,
    a.seen.channels.map(c => `${c.topic} (${c.schemaName}, ${c.encoding})`).join(', '));

  // Decoders from the advertised schemas, and a subscription to every channel.
  const decoders = new Map(), subs = new Map();
  for (const ch of a.seen.channels) {
    if (ch.encoding === 'protobuf') {
      const root = protobuf.Root.fromDescriptor(Buffer.from(ch.schema, 'base64'));
      const type = root.lookupType(ch.schemaName);
      decoders.set(ch.id, d => type.toObject(type.decode(d), { longs: String, defaults: true }));
    } else if (ch.encoding === 'json') {
      const schema = JSON.parse(ch.schema);
      if (schema.type !== 'object' || !schema.properties.value) fail(ch.topic + ': no JSON schema of its value');
      decoders.set(ch.id, d => JSON.parse(Buffer.from(d).toString()));
    } else fail('unexpected encoding ' + ch.encoding);
    const sub = a.client.subscribe(ch.id);
    subs.set(ch.topic, sub);
    a.seen.bySub.set(sub, []);
  }
  const camera = a.seen.channels.find(c => c.schemaName === 'foxglove.CompressedImage');
  const annots = a.seen.channels.filter(c => c.schemaName === 'foxglove.ImageAnnotations');
  const detector = a.seen.channels.find(c => c.topic === '/rsim/detector');
  if (!camera || !annots.length || !detector) fail('no camera, annotations or detector channel');
  const msgs = topic => a.seen.bySub.get(subs.get(topic));
  const last = ch => { const m = msgs(ch.topic); return m.length ? { t: m[m.length - 1].t, msg: decoders.get(ch.id)(m[m.length - 1].data) } : null; };

  // Starts paused at the start: the first PlaybackState says so.
  await a.seen.until(() => a.seen.states.length > 0, 'the first PlaybackState');
  if (a.seen.states[0].status !== 1 || a.seen.states[0].time !== startNs) fail('not paused at the start: ' + JSON.stringify(a.seen.states[0], (k, v) => typeof v === 'bigint' ? String(v) : v));

  // Play at 1x: the state answers the request, Time advances, camera frames and boxes arrive.
  a.control('play', 1, undefined, 'play-1');
  await a.seen.until(() => a.seen.states.some(s => s.requestId === 'play-1' && s.status === 0), 'PlaybackState playing');
  await a.seen.until(() => a.seen.time !== null && a.seen.time > startNs + 500000000n, 'Time past 0.5 s');
  await a.seen.until(() => msgs(camera.topic).length > 2 && annots.some(c => msgs(c.topic).length > 0), 'camera frames and annotations');
  console.log(`playing: Time at +${Number(a.seen.time - startNs) / 1e9} s, ${msgs(camera.topic).length} camera frames`);
  // Every channel delivers, and decodes with its advertised schema.
  await a.seen.until(() => a.seen.channels.every(c => msgs(c.topic).length > 0), 'a message on every channel');
  const cloud = a.seen.channels.find(c => c.topic === '/lidar_top'), fix = a.seen.channels.find(c => c.schemaName === 'foxglove.LocationFix');
  for (const c of a.seen.channels) last(c);
  const pc = last(cloud).msg, lf = last(fix).msg;
  if (!(pc.point_stride > 0) || pc.data.length % pc.point_stride || pc.fields.length < 3) fail('the lidar PointCloud does not decode');
  if (!(Math.abs(lf.latitude) > 0)) fail('the LocationFix has no latitude');
  const tf = last(a.seen.channels.find(c => c.topic === '/tf')).msg.transforms;
  if (!tf.some(x => x.parent_frame_id === 'base_link' && x.child_frame_id === 'radar_front')) fail('no transform base_link -> radar_front');
  const log = last(a.seen.channels.find(c => c.topic === '/rsim/log')).msg;
  if (log.level !== 3 && log.level !== 'WARNING' || log.name !== 'tracker' || !/over its budget/.test(log.message)) fail('the log line: ' + JSON.stringify(log));
  console.log(`log: WARNING ${log.name}: ${log.message}`);
  console.log(`every channel decoded: lidar ${pc.data.length / pc.point_stride} points, gps ${lf.latitude.toFixed(5)}, ${lf.longitude.toFixed(5)}`);

  // Pause: the state says paused, the API too.
  a.control('pause', 1, undefined, 'pause-1');
  await a.seen.until(() => a.seen.states.some(s => s.requestId === 'pause-1' && s.status === 1), 'PlaybackState paused');
  if ((await api('state')).mode !== 'paused') fail('the run did not pause');
  console.log('paused');

  // An exact instant, its frame and boxes against the web UI and render.
  async function checkInstant(label) {
    const st = await api('state');
    const now = BigInt(st.sim_time);
    await a.seen.until(() => a.seen.time === now, `Time ${now}`);
    const frameRes = await fetch(`${base}/api/frame?sensor=${camera.topic.slice(1)}`);
    const jpeg = new Uint8Array(await frameRes.arrayBuffer());
    await a.seen.until(() => { const l = last(camera); return l && Buffer.compare(Buffer.from(l.msg.data), Buffer.from(jpeg)) === 0; },
      `${label}: the camera frame of /api/frame`);
    const cam = last(camera);
    if (cam.msg.format !== 'jpeg' || (cam.msg.frame_id ?? cam.msg.frameId) !== camera.topic.slice(1)) fail('camera message: ' + JSON.stringify(Object.keys(cam.msg)));
    const det = st.components.find(c => c.name === 'detector');
    const detT = BigInt(det.output_time);
    const ann = annots.find(c => c.topic === '/rsim/detector/annotations');
    await a.seen.until(() => { const l = last(ann); return l && l.t === detT; }, `${label}: the detector's annotations at ${detT}`);
    await a.seen.until(() => { const l = last(detector); return l && l.t === detT; }, `${label}: the detector's JSON output at ${detT}`);
    const boxes = last(ann).msg.points;
    if (boxes.length !== det.output.length) fail(`${label}: ${boxes.length} boxes, the detector has ${det.output.length}`);
    boxes.forEach((b, i) => {
      const d = det.output[i].bbox, p = b.points;
      if (b.type !== 2 && b.type !== 'LINE_LOOP') fail('box type ' + b.type);
      if (p[0].x !== d.x || p[0].y !== d.y || p[2].x !== d.x + d.width || p[2].y !== d.y + d.height)
        fail(`${label}: box ${i} ${JSON.stringify(p)} is not the detector's ${JSON.stringify(d)}`);
    });
    // The 3-D panel's scenes: ground truth and the tracker's tracks, in base_link.
    const truthCh = a.seen.channels.find(c => c.topic === '/rsim/truth/scene'), trackCh = a.seen.channels.find(c => c.topic === '/rsim/tracker/scene');
    const truth = (await api('truth')).objects, trk = st.components.find(c => c.name === 'tracker');
    const near = (p, o) => Math.abs(p.x - o.x) < 0.002 && Math.abs(p.y - o.y) < 0.002; // the API prints mm
    const sameTruth = ents => ents.length === truth.length &&
      truth.every(o => ents.some(e => e.id === `truth/${o.id}` && near(e.cubes[0].pose.position, o)));
    await a.seen.until(() => { const l = last(truthCh); return l && sameTruth(l.msg.entities); },
      `${label}: the truth scene of /api/truth (${truth.length} objects)`);
    const trkT = BigInt(trk.output_time);
    await a.seen.until(() => { const l = last(trackCh); return l && l.t === trkT; }, `${label}: the tracker's scene at ${trkT}`);
    const ents = last(trackCh).msg.entities;
    if (ents.length !== trk.output.length || ents.some((e, i) => e.frame_id !== 'base_link' || !near(e.cubes[0].pose.position, trk.output[i].position)))
      fail(`${label}: the tracker's scene is not its output`);
    const json = last(detector).msg;
    if (JSON.stringify(json.value) !== JSON.stringify(det.output)) fail(`${label}: the JSON channel is not the detector's output`);
    // render --at the same instant draws each box's outline in its colour.
    const png = `${workdir}/fox-${label}.png`;
    execFileSync(replaysim, ['render', graph, '--store', drive, '--at', String(now), '--out', png]);
    const img = decodePng(readFileSync(png));
    const [cw, ch] = [640, 360]; // the camera panel (RSIM_VIZ_CAM_*: at 10, 34)
    let drawn = 0;
    for (const b of boxes) {
      const oc = b.outline_color ?? b.outlineColor, col = [oc.r, oc.g, oc.b].map(v => Math.round(v * 255));
      const p = b.points, scale = 640 / imageWidth(jpeg), scaleY = 360 / imageHeight(jpeg);
      const x0 = 10 + Math.round(p[0].x * scale), y0 = 34 + Math.round(p[0].y * scaleY);
      const x1 = 10 + Math.round(p[0].x * scale) + Math.round((p[2].x - p[0].x) * scale) - 1;
      const ym = 34 + Math.round(((p[0].y + p[2].y) / 2) * scaleY), xm = 10 + Math.round(((p[0].x + p[2].x) / 2) * scale);
      const at = (x, y) => x >= 10 && x < 10 + cw && y >= 34 && y < 34 + ch && img.px(x, y).every((v, k) => v === col[k]);
      if (at(x0, ym) || at(x1, ym) || at(xm, y0)) drawn++;
    }
    if (boxes.length && drawn < boxes.length) fail(`${label}: render draws ${drawn} of the ${boxes.length} boxes where the annotations put them`);
    console.log(`${label}: t = +${Number(now - startNs) / 1e9} s, frame = /api/frame (${jpeg.length} bytes), ${boxes.length} boxes = detector = render, ${truth.length} truth and ${ents.length} tracks in the scene`);
    return now;
  }
  await checkInstant('paused');

  // Seek forward, then back: did_seek, exact landing, Time and the views follow.
  const fwd = startNs + 2200000000n;
  a.control('pause', 1, fwd, 'seek-fwd');
  await a.seen.until(() => a.seen.states.some(s => s.requestId === 'seek-fwd' && s.didSeek), 'PlaybackState after the seek forward');
  await a.seen.until(() => a.seen.states.some(s => s.didSeek && s.time === fwd && s.status === 1), 'the seek forward arriving');
  if (BigInt((await api('state')).sim_time) !== fwd) fail('the seek forward did not land exactly');
  await checkInstant('seek-forward');
  const back = startNs + 700000000n;
  const before = a.seen.states.length;
  a.control('pause', 1, back, 'seek-back');
  await a.seen.until(() => a.seen.states.slice(before).some(s => s.didSeek && s.time === back && s.status === 1), 'PlaybackState after the seek back');
  if (BigInt((await api('state')).sim_time) !== back) fail('the seek back did not land exactly');
  await checkInstant('seek-back');

  // Speed: play at 2x, the state and the API say 2.
  a.control('play', 2, undefined, 'speed-2');
  await a.seen.until(() => a.seen.states.some(s => s.requestId === 'speed-2' && s.status === 0 && s.speed === 2), 'PlaybackState at 2x');
  if ((await api('state')).speed !== 2) fail('the speed did not change');
  console.log('speed 2x');

  // A client without the token may watch but not control.
  const b = connect(false);
  await b.seen.until(() => b.seen.channels, 'the second client\'s channels');
  b.control('pause', 1, startNs, 'intruder');
  await b.seen.until(() => b.seen.statuses.some(s => s.level === 2 && /token/.test(s.message)), 'the refusal');
  if (b.seen.statuses.some(s => s.message.includes(token))) fail('a status repeats the token');
  if ((await api('state')).mode !== 'playing') fail('a client without the token changed the run');
  console.log('a client without the token is refused:', b.seen.statuses.find(s => s.level === 2).message);
  // Nor may a client hold subscriptions without bound: 2,000 in one message
  // get 1,024, the rest refused with a status, and the server goes on.
  const many = Array.from({ length: 2000 }, (_, i) => ({ id: 100000 + i, channelId: a.seen.channels[0].id }));
  b.ws.send(JSON.stringify({ op: 'subscribe', subscriptions: many }));
  await b.seen.until(() => b.seen.statuses.some(s => /at most 1024 subscriptions/.test(s.message)), 'the subscription cap');
  if ((await api('state')).mode !== 'playing') fail('the server stopped playing after 2,000 subscriptions');
  console.log('subscriptions capped:', b.seen.statuses.find(s => /at most 1024/.test(s.message)).message);
  b.client.close();

  // Play to the end at 100x: PlaybackState says ended.
  a.control('play', 100, undefined, 'fast');
  await a.seen.until(() => a.seen.states.some(s => s.status === 3), 'PlaybackState ended');
  console.log('ended at', Number(a.seen.states.find(s => s.status === 3).time - startNs) / 1e9, 's');
  a.client.close();
  console.log('foxglove ok');
} finally {
  // The server stops cleanly on SIGTERM (under ASan: with no leak to report).
  const exited = new Promise(resolve => server.once('exit', (code, sig) => resolve([code, sig])));
  server.kill();
  const [code, sig] = await exited;
  if (code !== 0) fail(`the server exited with ${code ?? sig}`);
}

// ---- a PNG (8-bit RGB or RGBA, as libpng writes render's) --------------------------------
function decodePng(buf) {
  let off = 8, w = 0, h = 0, ct = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8), data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { w = data.readUInt32BE(0); h = data.readUInt32BE(4); ct = data[9]; if (data[8] !== 8 || data[12]) fail('unexpected PNG'); }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const bpp = ct === 6 ? 4 : 3, stride = w * bpp, raw = inflateSync(Buffer.concat(idat)), out = Buffer.alloc(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0, b = y ? out[(y - 1) * stride + x] : 0, c = x >= bpp && y ? out[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      out[y * stride + x] = v & 255;
    }
  }
  return { w, h, px: (x, y) => [0, 1, 2].map(k => out[y * stride + x * bpp + k]) };
}

// The size of a baseline JPEG, from its SOF0 marker.
function jpegSize(j) {
  for (let i = 2; i < j.length;) {
    if (j[i] !== 0xff) break;
    const m = j[i + 1], len = (j[i + 2] << 8) | j[i + 3];
    if (m >= 0xc0 && m <= 0xc2) return [(j[i + 7] << 8) | j[i + 8], (j[i + 5] << 8) | j[i + 6]];
    i += 2 + len;
  }
  fail('no SOF in the JPEG');
}
function imageWidth(j) { return jpegSize(j)[0]; }
function imageHeight(j) { return jpegSize(j)[1]; }

// ptim control panel: controls generated from GET /api/options, values from
// /api/config, changes sent as PATCH /api/config, statistics from
// /api/stats once a second, preview from /preview.mjpeg.
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') || '';
  const $ = (id) => document.getElementById(id);
  let options = [], readOnly = false, uploads = false, view = 'output', values = {};

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h['Authorization'] = 'Bearer ' + token;
    return h;
  }
  async function api(method, path, body) {
    const init = { method, headers: headers(body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const r = await fetch(path, init);
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) throw new Error((data && data.error) || ('HTTP ' + r.status));
    return data;
  }
  function withToken(url) { return token ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token) : url; }
  function toast(msg) {
    const t = $('toast'); t.textContent = msg; t.classList.remove('hidden');
    clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.add('hidden'), 3000);
  }

  // ---- preview ----
  function setView(v) {
    view = v;
    for (const b of document.querySelectorAll('#views button')) b.classList.toggle('on', b.dataset.view === v);
    $('preview').src = withToken('/preview.mjpeg?view=' + v + '&t=' + Date.now());
    $('preview').dataset.view = v;
  }
  for (const b of document.querySelectorAll('#views button')) b.addEventListener('click', () => setView(b.dataset.view));

  // ---- settings ----
  function domId(key) { return 'opt-' + key.replace(/\./g, '-'); }
  function step(o) {
    if (o.type === 'int' || o.type === 'size') return 1;
    const span = o.max - o.min;
    return span <= 1 ? 0.01 : span <= 10 ? 0.05 : span <= 100 ? 0.5 : 1;
  }
  function show(o, v) {
    const el = $(domId(o.key));
    if (!el) return;
    if (o.type === 'bool') el.checked = v === true;
    else el.value = v;
    const out = el.parentElement.querySelector('.val');
    if (out) out.textContent = v;
  }
  function note(o, msg, ok) {
    const box = $(domId(o.key) + '-msg');
    if (!box) return;
    box.textContent = msg || '';
    box.className = ok ? 'ok' : 'err';
  }
  async function change(o, raw) {
    let v = raw;
    if (o.type === 'int' || o.type === 'size') v = parseInt(raw, 10);
    else if (o.type === 'float') v = parseFloat(raw);
    try {
      await api('PATCH', '/api/config', { [o.key]: v });
      values[o.key] = v;
      note(o, '');
    } catch (e) {
      note(o, e.message);
      show(o, values[o.key]);
    }
  }
  function control(o) {
    const row = document.createElement('div');
    row.className = 'opt';
    const label = document.createElement('label');
    label.htmlFor = domId(o.key);
    label.textContent = o.key.split('.').slice(1).join('.');
    const help = document.createElement('span');
    help.className = 'help'; help.textContent = '?'; help.dataset.tip = o.help; help.title = o.help;
    label.appendChild(help);
    if (!o.live) {
      const b = document.createElement('span'); b.className = 'badge restart'; b.textContent = 'restart';
      b.title = 'Cannot change while running: set it in the settings file or with --set and restart';
      label.appendChild(b);
    }
    row.appendChild(label);
    const ctl = document.createElement('div'); ctl.className = 'ctl';
    let input;
    const editable = o.live && !readOnly;
    if (o.type === 'bool') {
      const sw = document.createElement('label'); sw.className = 'switch';
      input = document.createElement('input'); input.type = 'checkbox';
      sw.appendChild(input); sw.appendChild(document.createElement('span'));
      input.addEventListener('change', () => change(o, input.checked));
      row.insertBefore(sw, label.nextSibling);
    } else if (o.type === 'enum') {
      input = document.createElement('select');
      for (const c of o.choices) { const op = document.createElement('option'); op.value = c; op.textContent = c; input.appendChild(op); }
      input.addEventListener('change', () => change(o, input.value));
      ctl.appendChild(input);
    } else if ((o.type === 'int' || o.type === 'float' || o.type === 'size') && o.min !== undefined && o.max - o.min <= 100000) {
      input = document.createElement('input'); input.type = 'range';
      input.min = o.min; input.max = o.max; input.step = step(o);
      const out = document.createElement('span'); out.className = 'val';
      input.addEventListener('input', () => { out.textContent = input.value; });
      input.addEventListener('change', () => change(o, input.value));
      ctl.appendChild(input); ctl.appendChild(out);
    } else {
      input = document.createElement('input'); input.type = 'text'; input.spellcheck = false;
      if (o.type === 'path') input.placeholder = 'path on the machine running ptim';
      input.addEventListener('change', () => change(o, input.value));
      ctl.appendChild(input);
      const up = UPLOADS[o.key];
      if (up) {
        const file = document.createElement('input'); file.type = 'file'; file.accept = up.accept;
        file.id = up.id; file.className = 'hidden';
        const pick = document.createElement('button'); pick.type = 'button'; pick.textContent = 'Upload…';
        pick.disabled = readOnly || !uploads;
        pick.title = uploads ? up.title : 'Start ptim with --userdata-dir to upload';
        pick.addEventListener('click', () => file.click());
        file.addEventListener('change', () => upload(o, up, file));
        ctl.appendChild(pick); ctl.appendChild(file);
      }
    }
    input.id = domId(o.key);
    input.dataset.key = o.key;
    input.disabled = !editable;
    row.appendChild(ctl);
    const msg = document.createElement('div'); msg.id = domId(o.key) + '-msg'; msg.className = 'err';
    row.appendChild(msg);
    return row;
  }
  // Path options a file can be uploaded for: the endpoint stores it under a
  // name ptim chooses, checks it (the masker or the ONNX reader), sets the
  // option and answers with the verdict, shown next to the control.
  const UPLOADS = {
    'swap.identity': { url: '/api/identity', id: 'identity-file', accept: 'image/png,image/jpeg', title: 'Upload a photo of exactly one face' },
    'mask.image': { url: '/api/mask-image', id: 'mask-image-file', accept: 'image/png,image/jpeg', title: 'Upload a picture (PNG with alpha) to draw over faces' },
    'swap.model': { url: '/api/swap-model', id: 'swap-model-file', accept: '.dfm,.onnx', title: 'Upload a DeepFaceLive .dfm or an inswapper .onnx' },
    'swap.encoder': { url: '/api/swap-encoder', id: 'swap-encoder-file', accept: '.onnx', title: "Upload the inswapper's ArcFace encoder (w600k_r50.onnx)" },
  };
  async function upload(o, up, file) {
    const f = file.files[0];
    if (!f) return;
    note(o, 'Uploading ' + f.name + '…', true);
    const data = await new Promise((ok, bad) => {
      const rd = new FileReader(); rd.onload = () => ok(rd.result); rd.onerror = bad; rd.readAsDataURL(f);
    });
    try {
      const r = await api('POST', up.url, { filename: f.name, data });
      values[o.key] = r.path; show(o, r.path);
      const what = r.kind ? r.kind + ', ' + r.resolution + ' px' : r.width + '×' + r.height;
      note(o, 'Uploaded (' + what + '). ' + r.note, true);
    } catch (e) { note(o, e.message); }
    file.value = '';
  }
  async function loadSettings() {
    const meta = await api('GET', '/api/options');
    options = meta.options; readOnly = meta.read_only; uploads = meta.uploads;
    $('ro').classList.toggle('hidden', !readOnly);
    $('record').disabled = readOnly || !uploads;
    if (!uploads) $('record').title = 'Start ptim with --userdata-dir to record';
    const groups = $('groups');
    groups.textContent = '';
    const bySection = new Map();
    for (const o of options) {
      const sec = o.key.split('.')[0];
      if (!bySection.has(sec)) bySection.set(sec, []);
      bySection.get(sec).push(o);
    }
    for (const [sec, list] of bySection) {
      const d = document.createElement('details');
      d.open = ['mask', 'detector', 'track', 'privacy'].includes(sec);
      d.id = 'section-' + sec;
      const s = document.createElement('summary'); s.textContent = sec; d.appendChild(s);
      for (const o of list) d.appendChild(control(o));
      groups.appendChild(d);
    }
    values = await api('GET', '/api/config');
    for (const o of options) show(o, values[o.key]);
  }

  // ---- statistics ----
  function fmt(n, d) { return typeof n === 'number' ? n.toFixed(d === undefined ? 0 : d) : '–'; }
  function mib(b) { return typeof b === 'number' ? (b / 1048576).toFixed(1) + ' MiB' : '–'; }
  function fill(tbody, rows) {
    tbody.textContent = '';
    for (const r of rows) {
      const tr = document.createElement('tr');
      for (const c of r) { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); }
      tbody.appendChild(tr);
    }
  }
  function spark(values) {
    const c = $('spark'), g = c.getContext('2d');
    const w = c.width = c.clientWidth || 600, h = c.height = 60;
    g.clearRect(0, 0, w, h);
    if (!values.length) return;
    const max = Math.max(1, ...values) * 1.15;
    g.strokeStyle = '#4f8cff'; g.lineWidth = 2; g.beginPath();
    values.forEach((v, i) => {
      const x = values.length === 1 ? w : (i / (values.length - 1)) * w, y = h - (v / max) * (h - 4) - 2;
      if (i) g.lineTo(x, y); else g.moveTo(x, y);
    });
    g.stroke();
    g.lineTo(w, h); g.lineTo(0, h); g.closePath(); g.fillStyle = 'rgba(79,140,255,.12)'; g.fill();
  }
  async function refresh() {
    let s;
    try { s = await api('GET', '/api/stats'); } catch (e) {
      $('status').textContent = 'disconnected'; $('status').className = 'pill down'; return;
    }
    $('status').textContent = s.running ? 'live' : 'idle';
    $('status').className = 'pill ' + (s.running ? 'live' : 'idle');
    $('job').textContent = s.input ? s.input + ' → ' + s.output + (s.items > 1 ? '  (' + s.item + '/' + s.items + ')' : '') : '';
    $('s-fps').textContent = fmt(s.fps_in, 1) + ' / ' + fmt(s.fps_out, 1);
    $('s-faces').textContent = fmt(s.faces);
    $('s-out').textContent = fmt(s.frames.out);
    const dr = s.frames.dropped;
    $('s-covered').textContent = fmt(s.frames.covered) + ' / ' + fmt(dr.guard + dr.live + dr.rate + dr.alloc);
    const lat = s.history_latency_ms;
    $('s-lat').textContent = lat.length ? fmt(lat[lat.length - 1], 1) + ' ms' : '';
    spark(lat);
    fill($('t-stages').tBodies[0], Object.entries(s.latency_ms).map(([k, v]) => [k, fmt(v.p50, 2), fmt(v.p99, 2), fmt(v.count)]));
    const errs = Object.entries(s.errors).filter(([, v]) => v > 0).map(([k, v]) => [k, fmt(v)]);
    fill($('t-errors').tBodies[0], errs.length ? errs : [['none', '0']]);
    fill($('t-memory').tBodies[0], [
      ['frames in flight', fmt(s.memory.frame_records_in_use)], ['peak', fmt(s.memory.frame_records_peak)],
      ['resident', fmt(s.memory.rss_bytes / 1048576, 0) + ' MiB'],
      ['pool in use', mib(s.memory.pool.in_use_bytes)], ['pool peak', mib(s.memory.pool.peak_bytes)],
      ['pool cached', mib(s.memory.pool.cached_free_bytes)], ['pool budget', mib(s.memory.pool.budget_bytes)],
      ['pool reuse', fmt(100 * s.memory.pool.reuse_rate, 1) + ' %'], ['pool refusals', fmt(s.memory.pool.failures)]]);
    const exp = s.frames.expected;
    const prog = $('progress');
    if (readOnly && exp > 0) {
      prog.classList.remove('hidden');
      $('progress-bar').style.width = Math.min(100, 100 * s.frames.out / exp).toFixed(1) + '%';
      $('progress-text').textContent = s.frames.out + ' / ' + exp + ' frames' + (s.items > 1 ? ' — file ' + s.item + ' of ' + s.items : '');
    } else prog.classList.add('hidden');
    const rec = $('record');
    rec.classList.toggle('on', s.recording.on);
    rec.textContent = s.recording.on ? '■ Stop (' + s.recording.frames + ')' : '● Record';
    rec.dataset.on = s.recording.on ? '1' : '0';
  }
  $('record').addEventListener('click', async () => {
    const on = $('record').dataset.on !== '1';
    try { const r = await api('POST', '/api/recording', { recording: on }); if (r.file) toast((on ? 'Recording to ' : 'Saved ') + r.file); }
    catch (e) { toast(e.message); }
    refresh();
  });

  loadSettings().then(() => { document.body.dataset.ready = '1'; }).catch((e) => toast('settings: ' + e.message));
  setView('output');
  refresh();
  setInterval(refresh, 1000);
})();

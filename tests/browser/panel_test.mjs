// Browser test of ptim's control panel: Debian's chromium driven by
// puppeteer-core (never downloads a browser). Usage:
//   node panel_test.mjs URL SCREENSHOT.png NOT_A_PICTURE FIXTURE.dfm
// Opens the page, switches mask.mode blur -> pixelate with the page's own
// drop-down, checks that /api/config and the preview picture both show it
// (pixelation: steps between cells inside the face box, which a blur
// does not have), moves the mask.pixelate_cells slider and checks that the
// pipeline applied it, uploads through the page's file pickers (a bad
// identity, a bad swap model: the reason next to the control; the fixture
// .dfm: accepted, swap.model set), shows the pool in the memory table, and
// saves a screenshot. Exit status 0 only when all
// checks pass.
import puppeteer from 'puppeteer-core';

const [url, shot, notPicture, dfm] = process.argv.slice(2);
const chromium = process.env.PTIM_CHROMIUM || '/usr/bin/chromium';
let failures = 0;
const fail = (m) => { console.log('FAIL: ' + m); failures++; };
const ok = (m) => console.log('ok: ' + m);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(path) {
  const r = await fetch(new URL(path, url));
  return r.json();
}
async function until(what, fn, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) { fail('timed out waiting for ' + what); return null; }
    await sleep(250);
  }
}

// Inside the page: steps (|dY| > 4 between horizontal neighbours, as
// a fraction of pairs) in the face box of the newest preview picture (the
// page's own preview source, /preview.jpg, decoded by the browser).
async function steps(page) {
  const st = await api('/api/stats');
  const box = st.preview.faces[0], fw = st.preview.frame_width;
  if (!box) return null;
  return page.evaluate(async (box, fw) => {
    const r = await fetch('/preview.jpg?view=output');
    if (!r.ok) return null;
    const bmp = await createImageBitmap(await r.blob());
    const w = bmp.width, h = bmp.height;
    const c = document.createElement('canvas'); c.width = w; c.height = h;
    const g = c.getContext('2d'); g.drawImage(bmp, 0, 0);
    const k = w / fw;
    const x0 = Math.max(0, Math.round((box[0] + box[2] * 0.2) * k)), x1 = Math.min(w - 1, Math.round((box[0] + box[2] * 0.8) * k));
    const y0 = Math.max(0, Math.round((box[1] + box[3] * 0.2) * k)), y1 = Math.min(h - 1, Math.round((box[1] + box[3] * 0.8) * k));
    const d = g.getImageData(0, 0, w, h).data;
    const Y = (x, y) => { const i = 4 * (y * w + x); return 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]; };
    let n = 0, big = 0;
    for (let y = y0; y <= y1; y++) for (let x = x0; x < x1; x++) { n++; if (Math.abs(Y(x + 1, y) - Y(x, y)) > 4) big++; }
    return n ? big / n : null;
  }, box, fw);
}
// The newest preview frame, measured a few times (the MJPEG keeps going).
async function measure(page) {
  const vals = [];
  for (let i = 0; i < 5; i++) { const v = await steps(page); if (v !== null) vals.push(v); await sleep(300); }
  vals.sort((a, b) => a - b);
  return vals.length ? vals[Math.floor(vals.length / 2)] : null;
}

const browser = await puppeteer.launch({
  executablePath: chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 900 });
  page.on('pageerror', (e) => fail('page error: ' + e.message));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const controls = await page.$$eval('[data-key]', (els) => els.length);
  const table = (await api('/api/options')).options.length;
  if (controls !== table) fail(`${controls} controls on the page, ${table} options in the table`); else ok(`${controls} controls generated from the option table`);
  const restart = await page.$$eval('.opt .badge.restart', (els) => els.length);
  const nonLive = (await api('/api/options')).options.filter((o) => !o.live).length;
  if (restart !== nonLive) fail(`${restart} restart badges, ${nonLive} options that need a restart`); else ok(`${restart} options shown as needing a restart`);

  await until('a preview picture and a face', async () => (await steps(page)) !== null);
  const before = await measure(page);
  if ((await api('/api/config'))['mask.mode'] !== 'blur') fail('mask.mode is not blur at start');
  // The page's own drop-down.
  await page.select('select[data-key="mask.mode"]', 'pixelate');
  await until('/api/config to show pixelate', async () => (await api('/api/config'))['mask.mode'] === 'pixelate');
  ok('/api/config shows mask.mode = pixelate after the drop-down changed');
  let after = null;
  await until('the preview to show pixelation', async () => { after = await measure(page); return after !== null && after > Math.max(0.01, 4 * before); }, 60000);
  console.log(`preview: steps between neighbours in the face box ${(100 * before).toFixed(2)} % (blur) -> ${(100 * after).toFixed(2)} % (pixelate)`);
  if (after !== null && after > Math.max(0.01, 4 * before)) ok('the preview picture shows the pixelation');

  // A slider: mask.pixelate_cells 10 -> 4, as a user drags and lets go.
  const r0 = (await api('/api/stats')).reconfigures;
  await page.$eval('input[data-key="mask.pixelate_cells"]', (el) => {
    el.value = 4; el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change'));
  });
  await until('/api/config to show pixelate_cells 4', async () => (await api('/api/config'))['mask.pixelate_cells'] === 4);
  const applied = await until('the pipeline to apply the slider', async () => (await api('/api/stats')).reconfigures > r0);
  if (applied) ok(`slider mask.pixelate_cells = 4 reached the pipeline (reconfigures ${r0} -> ${(await api('/api/stats')).reconfigures})`);
  // An identity upload that is not a picture: the reason next to the control.
  await page.$eval('#section-swap', (el) => { el.open = true; });
  const file = await page.$('#identity-file');
  await file.uploadFile(notPicture);
  await file.evaluate((el) => el.dispatchEvent(new Event('change')));
  const msg = await until('the upload validation message', async () => page.$eval('#opt-swap-identity-msg', (el) => el.textContent));
  if (msg && /PNG or JPEG/.test(msg)) ok('a bad identity upload shows its validation error: ' + msg); else fail('no validation message: ' + msg);

  // The swap.model picker: a file that is not a network, then the fixture .dfm.
  const mfile = await page.$('#swap-model-file');
  // (uploadFile fires the input's change event itself: one upload each)
  await mfile.uploadFile(notPicture);
  const mbad = await until('the model validation message', async () =>
    page.$eval('#opt-swap-model-msg', (el) => el.className === 'err' && el.textContent));
  if (mbad && /cannot be loaded/.test(mbad)) ok('a bad swap model upload shows its reason: ' + mbad); else fail('no model validation message: ' + mbad);
  await mfile.uploadFile(dfm);
  const mgood = await until('the model upload to be accepted', async () =>
    page.$eval('#opt-swap-model-msg', (el) => el.className === 'ok' && /dfm, 224 px/.test(el.textContent) && el.textContent));
  const set = (await api('/api/config'))['swap.model'];
  if (mgood && /\/uploads\/swap-model-.*\.dfm$/.test(set) && (await page.$eval('input[data-key="swap.model"]', (el) => el.value)) === set)
    ok('the fixture .dfm uploaded through the page: ' + mgood + ' swap.model = ' + set);
  else fail("the .dfm upload: message " + mgood + ", swap.model " + set + ", the control shows " + (await page.$eval('input[data-key="swap.model"]', (el) => el.value)));
  const pool = await until('the pool in the memory table', async () =>
    page.$eval('#t-memory', (el) => /pool peak\s*[0-9.]+ MiB/.test(el.textContent) && el.textContent));
  if (pool) ok('the memory table shows the pool');

  await page.click('#views button[data-view="side"]');
  await sleep(1500);
  await until('stats to show', async () => page.$eval('#s-fps', (el) => el.textContent !== '–'));
  await page.screenshot({ path: shot });
  console.log('screenshot: ' + shot);
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);

// Every page kind, from the route table: `rathaus routes --json` lists every route of the
// platform and the modules. The test crawls the demo municipality twice, anonymously and
// signed in as its admin, following links from the start pages, and checks the first page
// of every route pattern it reaches with axe-core (WCAG 2.1 A/AA) and the page structure.
// Then it asserts that every HTML page route was reached (with a real id from the demo
// data) unless it is listed below with the reason it cannot be. A new page is therefore
// checked without anyone adding it here.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launchBrowser, checkA11y, binaryPath } from '../lib/server.mjs';
import { login, checkStructure } from '../lib/flows.mjs';

// GET routes of the page kind that are not pages, or that no link of the demo data leads
// to; each with where it is covered instead. Everything else must be reached.
const UNREACHABLE = new Map([
  ['/live', 'server-sent events for live.js (crates/web/tests/live.rs)'],
  ['/sprache', 'sets the language cookie and redirects back (pages.test.mjs)'],
  ['/login/totp', 'only after the password step of an account with a second factor (login.test.mjs)'],
  ['/maengel/danke', 'the answer to a submitted report (reports-public.test.mjs)'],
  ['/maengel/altcha', 'JSON challenge for the spam check script (crates/reports/tests/public.rs)'],
  ['/maengel/adressen', 'JSON address suggestions for the form script (crates/reports/tests/public.rs)'],
  ['/maengel/in-der-naehe', 'fragment for the "already reported?" script (crates/reports/tests/public.rs)'],
  ['/maengel/karte.geojson', 'GeoJSON for the map script (crates/reports/tests/public.rs)'],
  ['/maengel/kacheln/{z}/{x}/{y}', 'map tiles for the map script, proxied (crates/reports/tests/public.rs)'],
  ['/maengel/verwaltung/karte.json', 'JSON for the staff map script (crates/reports/tests/staff.rs)'],
  ['/buchung/serien/{id}', 'the demo has no series; booking_series.test.mjs opens one it creates'],
  ['/wappen/{file}', 'the demo keeps the built-in coat of arms (crates/web/tests/coat_of_arms.rs)'],
  ['/buchung/fotos/{file}', 'pictures; the demo has none (crates/booking/tests/photos.rs)'],
  ['/buchung/fotos/{id}/klein.jpg', 'pictures; the demo has none (crates/booking/tests/photos.rs)'],
  ['/maengel/fotos/{file}', 'pictures; the demo has none (crates/reports/tests/public.rs)'],
  ['/maengel/fotos/{id}/klein.jpg', 'pictures; the demo has none (crates/reports/tests/public.rs)'],
  ['/maengel/verwaltung/fotos/{file}', 'pictures; the demo has none (crates/reports/tests/staff.rs)'],
  ['/programm/programm.css', 'the board stylesheet, not a page (crates/programme/tests)'],
  ['/akten/dokumente/{id}/inhalt', 'a document download, not a page (crates/records/tests/api.rs, records.test.mjs)'],
  ['/akten/aussonderung/anbietung/{id}', 'the demo has no offer; records-disposal.test.mjs makes one (crates/records/tests/disposal.rs)'],
  ['/akten/aussonderung/anbietung/{id}/0501.xml', 'an xdomea message download, not a page (records-disposal.test.mjs, crates/records/tests/disposal.rs)'],
  ['/akten/aussonderung/anbietung/{id}/0505.xml', 'an xdomea message download, not a page (crates/records/tests/disposal.rs)'],
  ['/akten/aussonderung/anbietung/{id}/aussonderung.zip', 'the 0503 ZIP download, not a page (crates/records/tests/disposal.rs)'],
  ['/dateien/wissen/{id}', 'a knowledge attachment download, not a page; the demo has none (crates/knowledge/tests/attachments.rs)'],
]);
// Links the crawler never follows: they change state or leave the HTML pages.
const NEVER = [/^\/logout/, /^\/sprache/, /^\/static\//, /^\/api\//, /^\/open311\//, /^\/live/];
const MAX_PER_PATTERN = 2;
const MAX_PAGES = 400;

let server;
let browser;
let page;
let routes;
let anonymous = new Set();

function matcher(path) {
  const parts = path.split(/(\{[^}]+\})/).map((p) => {
    if (p.startsWith('{*')) return '.+';
    if (p.startsWith('{')) return '[^/]+';
    return p.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('')}$`);
}

/** The route a path belongs to: the matching pattern with the fewest parameters (axum's
 * static-before-capture rule). */
function routeOf(pathname) {
  let best = null;
  for (const r of routes) {
    if (!r.re.test(pathname)) continue;
    const params = (r.path.match(/\{/g) || []).length;
    if (!best || params < best.params) best = { ...r, params };
  }
  return best;
}

async function crawl(label, starts) {
  const origin = new URL(server.url).origin;
  const queue = [...starts];
  const seen = new Set();
  const perPattern = new Map();
  const reached = new Set();
  let pages = 0;
  while (queue.length > 0 && pages < MAX_PAGES) {
    const target = queue.shift();
    const url = new URL(target, origin);
    if (url.origin !== origin || seen.has(url.pathname + url.search)) continue;
    seen.add(url.pathname + url.search);
    if (NEVER.some((re) => re.test(url.pathname))) continue;
    const route = routeOf(url.pathname);
    if (!route) continue;
    const count = perPattern.get(route.path) || 0;
    if (count >= MAX_PER_PATTERN) continue;
    perPattern.set(route.path, count + 1);

    // Downloads and pictures are fetched, not rendered.
    const head = await page.request.get(url.href, { maxRedirects: 0 });
    const type = head.headers()['content-type'] || '';
    if (head.status() !== 200) continue;
    reached.add(route.path);
    if (!type.startsWith('text/html')) continue;

    pages += 1;
    const response = await page.goto(url.href);
    assert.equal(response.status(), 200, `${label}: ${url.pathname}${url.search}`);
    if (count === 0) {
      await checkStructure(page, `${label} ${route.path} (${url.pathname})`);
      await checkA11y(page, `${label} ${route.path} (${url.pathname})`);
    }
    // Links, and the pictures and scripts the page loads (fetched, not rendered).
    const links = await page.$$eval('a[href], img[src], script[src]', (els) =>
      els.map((e) => e.getAttribute('href') ?? e.getAttribute('src')));
    for (const href of links) {
      if (href && !href.startsWith('#') && !href.startsWith('mailto:')) queue.push(href);
    }
  }
  return reached;
}

function expected(filter) {
  return routes
    .filter((r) => r.kind === 'page' && r.method === 'GET' && filter(r) && !UNREACHABLE.has(r.path))
    .map((r) => r.path);
}

before(async () => {
  routes = execFileSync(binaryPath(), ['routes', '--json'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .map((r) => ({ ...r, re: matcher(r.path) }));
  server = await startServer();
  ({ browser, page } = await launchBrowser());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('anonymous: every page reached is accessible', async () => {
  anonymous = await crawl('anonymous', ['/', '/belegung', '/maengel', '/maengel/melden', '/login', '/registrieren']);
  assert.ok(anonymous.size > 10, `the anonymous crawl reached only ${[...anonymous].join(', ')}`);
});

test('signed in: every page reached is accessible, and every page kind was reached', async () => {
  await login(page, server);
  const reached = await crawl('admin', [
    '/staff', '/account', '/buchung', '/buchung/anfragen', '/buchung/meine', '/admin/settings',
    '/maengel/verwaltung?bereich=alle&status=alle', '/suche?q=Stra%C3%9Fe', '/programm/phasen',
    '/akten', '/akten/suche?q=Wohngeld', '/akten/aussonderung',
  ]);
  const missing = expected((r) => r.access !== 'secret').filter((p) => !reached.has(p) && !anonymous.has(p));
  assert.deepEqual(missing, [], `page routes the crawl did not reach: ${missing.join(', ')}`);
});

// axe-core on every page of the booking module (as admin unless noted), with the demo data.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure } from '../lib/flows.mjs';
import { nextWeekday, dayAhead, newPage, assertNoKeyboardTrap, isoWeek } from '../lib/booking.mjs';

const HALL = 'Sporthalle Am Markt';
const ROOM = 'Bürgerhaus – Gruppenraum';

let server;
let browser;
let page; // the admin
const ids = {};

before(async () => {
  server = await startServer();
  ({ browser, page } = await launchBrowser());
  await login(page, server);
  // Resource ids from the list.
  await visit(page, server, '/buchung');
  for (const [key, name] of [['hall', HALL], ['room', ROOM], ['third', 'Hallendrittel A']]) {
    const href = await page.locator('main').getByRole('link', { name, exact: true }).getAttribute('href');
    ids[key] = /^\/buchung\/(\d+)$/.exec(href)[1];
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const main = () => page.locator('main');

/** Visits a path, expects the HTTP status (200) and the common structure, runs axe. */
async function check(p, path, label = path, status = 200) {
  const res = await visit(p, server, path);
  assert.equal(res.status(), status, `${label}: HTTP status`);
  await checkStructure(p, label);
  await checkA11y(p, label);
}

const day = nextWeekday('Mon', 9);
let seriesPath;

/**
 * Submits the POST form whose action matches `action` (a string: the exact action, or a
 * RegExp) with its submit button, after `prepare(form)`; expects an error shown and runs axe.
 */
async function submitWithErrors(p, action, label, prepare = async () => {}) {
  const forms = p.locator('main form[method="post"]');
  const n = await forms.count();
  let form = null;
  for (let i = 0; i < n && !form; i++) {
    const a = await forms.nth(i).getAttribute('action');
    if (typeof action === 'string' ? a === action : action.test(a)) form = forms.nth(i);
  }
  assert.ok(form, `${label}: a form posting to ${action}`);
  await prepare(form);
  await andWait(p, () => form.locator('button[type="submit"]').last().click());
  const shown = await p.locator('main [role="alert"], main .field-error, main [aria-invalid="true"]').count();
  assert.ok(shown > 0, `${label}: an error is shown (${p.url()})`);
  await checkStructure(p, label);
  await checkA11y(p, label);
}

test('the resource list, a resource, its day, month and edit pages', async () => {
  await check(page, '/buchung', 'resource list');
  await check(page, `/buchung/${ids.hall}`, 'hall week');
  await check(page, `/buchung/${ids.hall}/tag`, 'hall day');
  await check(page, `/buchung/${ids.hall}/tag?datum=${day.iso}`, 'hall day with a date');
  await check(page, `/buchung/${ids.hall}/monat`, 'hall month');
  await check(page, `/buchung/${ids.third}/monat`, 'hall third month');
  await check(page, `/buchung/${ids.hall}/bearbeiten`, 'hall edit page');
  await check(page, `/buchung/${ids.room}/bearbeiten`, 'room edit page');
});

test('a series page, the request queue and "Meine Buchungen" with bookings', async () => {
  await visit(page, server, `/buchung/${ids.third}`);
  await page.getByLabel('Datum', { exact: true }).fill(day.iso);
  await page.getByLabel('Beginn', { exact: true }).fill('17:00');
  await page.getByLabel('Ende', { exact: true }).fill('19:00');
  await page.getByLabel('Titel', { exact: true }).fill('Seniorensport');
  await page.getByLabel('wöchentlich an diesem Wochentag').check();
  await page.getByLabel('Wiederholen bis (Datum)').fill(dayAhead(9 + 70).iso);
  await page.getByLabel('Wochen in Ferien und Sperrzeiten auslassen').check();
  await andWait(page, () => page.getByRole('button', { name: 'Buchen', exact: true }).click());
  assert.match(currentPath(page), /^\/buchung\/serien\/\d+$/, `series page, got ${page.url()}`);
  seriesPath = currentPath(page);
  await checkStructure(page, 'series page');
  await checkA11y(page, 'series page after creating it');
  await check(page, seriesPath, 'series page');

  // The "move" form of one date, opened.
  await main().locator('details summary').first().click();
  await checkA11y(page, 'series page with a move form open');

  // A single booking in the citizens' room.
  await visit(page, server, `/buchung/${ids.room}`);
  await page.getByLabel('Datum', { exact: true }).fill(day.iso);
  await page.getByLabel('Beginn', { exact: true }).fill('10:00');
  await page.getByLabel('Ende', { exact: true }).fill('12:00');
  await page.getByLabel('Titel', { exact: true }).fill('Sprechstunde');
  await andWait(page, () => page.getByRole('button', { name: 'Buchen', exact: true }).click());
  assert.match(page.url(), /notice=booking_/);
  await checkA11y(page, 'room week with a booking');

  await check(page, '/buchung/anfragen', 'approval queue');
  await check(page, '/buchung/meine', 'my bookings');
  await check(page, `/buchung/${ids.third}/tag?datum=${day.iso}`, 'hall third day with a booking');
  await check(page, `/buchung/${ids.third}/monat?monat=${day.iso.slice(0, 7)}`, 'hall third month with bookings');
});

test('occupancy grid and the free-slot search', async () => {
  await check(page, '/buchung/belegung', 'occupancy grid');
  await check(page, `/buchung/belegung?woche=${isoWeek(day.iso)}&art=hall_part&ort=&kapazitaet=`, 'occupancy grid, filtered, with bookings');
  await check(page, '/buchung/frei', 'free-slot search');
  await check(page, `/buchung/frei?datum=${day.iso}&von=10:00&bis=12:00&art=&ort=&kapazitaet=`, 'free-slot search with results');
  assert.ok(await main().getByRole('table').count() === 1, 'the search shows a result table');
  await check(page, `/buchung/frei?datum=${day.iso}&von=10:00&bis=12:00&art=&ort=Nirgendwo&kapazitaet=`, 'free-slot search without results');
  await check(page, `/buchung/frei?datum=${day.iso}&von=12:00&bis=10:00&art=&ort=&kapazitaet=viele`, 'free-slot search with errors', 422);
  await main().getByRole('alert').waitFor();
});

test('blackouts, statistics, fees and calendar feeds', async () => {
  await check(page, '/buchung/sperrzeiten', 'blackouts');
  // Adding a blackout with nothing filled in: the errors beside the fields.
  await andWait(page, () => main().locator('form[method="post"][action="/buchung/sperrzeiten"]')
    .getByRole('button', { name: 'Sperrzeit speichern' }).click());
  await main().getByRole('alert').waitFor();
  assert.equal(await page.locator('#f-from').getAttribute('aria-invalid'), 'true');
  await checkA11y(page, 'blackouts with errors');

  await check(page, '/buchung/statistik', 'statistics');
  await check(page, `/buchung/statistik?jahr=${day.yyyy}`, 'statistics of a year');
  await check(page, '/buchung/gebuehren', 'fees');
  await check(page, `/buchung/gebuehren?von=${dayAhead(0).iso}&bis=${dayAhead(120).iso}`, 'fees of a period');
  await check(page, '/buchung/gebuehren?von=gestern&bis=', 'fees with a bad period', 422);
  await check(page, '/buchung/kalender', 'calendar feeds (admin)');
});

test('organisations and the hall season', async () => {
  await check(page, '/buchung/organisationen', 'organisations');
  await andWait(page, () => main().getByRole('link', { name: 'TV Beispielstadt 1890 e.V.' }).first().click());
  assert.match(currentPath(page), /^\/buchung\/organisationen\/\d+$/);
  await checkStructure(page, 'organisation page');
  await checkA11y(page, 'organisation page');

  await check(page, '/buchung/saison', 'seasons');
  await andWait(page, () => main().getByRole('link', { name: /^Hallensaison / }).first().click());
  assert.match(currentPath(page), /^\/buchung\/saison\/\d+$/);
  await checkStructure(page, 'season page');
  await checkA11y(page, 'season page');
});

test('error states of the series, organisation, season and feed forms', async () => {
  assert.ok(seriesPath, 'the series was created');
  await visit(page, server, seriesPath);
  await submitWithErrors(page, /\/verschieben$/, 'series page: moving a date to end before start', async (form) => {
    await page.locator('main details summary').first().click();
    await form.getByLabel('Beginn', { exact: true }).fill('19:00');
    await form.getByLabel('Ende', { exact: true }).fill('18:00');
  });
  await visit(page, server, seriesPath);
  await submitWithErrors(page, /\/absagen-ab$/, 'series page: cancelling from no date', async (form) => {
    await form.getByLabel('Absagen ab', { exact: true }).fill('');
  });

  await visit(page, server, '/buchung/organisationen');
  await submitWithErrors(page, '/buchung/organisationen', 'organisations: new one without a name');
  await visit(page, server, '/buchung/organisationen');
  await andWait(page, () => main().getByRole('link', { name: 'TV Beispielstadt 1890 e.V.' }).first().click());
  const orgPath = currentPath(page);
  await submitWithErrors(page, /\/mitglieder$/, 'organisation: adding an unknown member', async (form) => {
    const input = form.locator('input:not([type="hidden"])').first();
    await input.fill('niemand@example.org');
  });
  await visit(page, server, orgPath);
  await submitWithErrors(page, orgPath, 'organisation: saving without a name', async (form) => {
    await form.getByLabel('Name', { exact: true }).fill('');
  });

  await visit(page, server, '/buchung/saison');
  await submitWithErrors(page, '/buchung/saison', 'seasons: new one without dates');

  await visit(page, server, '/buchung/kalender');
  await andWait(page, () => main().getByRole('button', { name: 'Neuen Link erzeugen (alten Link sperren)' }).first().click());
  await main().getByRole('status').waitFor();
  await checkA11y(page, 'calendar feeds after renewing a link');
});

test('Tab reaches every control of the busiest pages and leaves them again', async () => {
  for (const path of [
    `/buchung/${ids.hall}`,
    `/buchung/${ids.hall}/bearbeiten`,
    seriesPath,
    '/buchung/anfragen',
    '/buchung/frei',
    '/buchung/sperrzeiten',
    `/buchung/${ids.third}/monat?monat=${day.iso.slice(0, 7)}`,
    '/buchung/belegung',
  ]) {
    await visit(page, server, path);
    await assertNoKeyboardTrap(page, path);
  }
});

test('the public occupancy pages (anonymous)', async () => {
  const anon = await newPage(browser);
  await check(anon, '/belegung', 'public resource list');
  const link = anon.locator('main').getByRole('link', { name: HALL, exact: true });
  await andWait(anon, () => link.click());
  assert.match(currentPath(anon), /^\/belegung\/\d+$/);
  await checkStructure(anon, 'public week');
  await checkA11y(anon, 'public week');
  await check(anon, `${currentPath(anon)}?woche=${'2027-W02'}`, 'public week in January');
  await anon.context().close();
});

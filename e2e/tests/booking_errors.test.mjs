// Error states of the booking pages, each checked with axe: end before start, a slot outside
// the opening hours, a conflict, a series without an end date, and a bad opening-hours value
// on the resource edit page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure } from '../lib/flows.mjs';
import { CITIZEN, CLUB, nextWeekday, dayAhead, newPage } from '../lib/booking.mjs';

const ROOM = 'Bürgerhaus – Gruppenraum';

let server;
let browser;
let page; // the citizen
let staff; // the admin

before(async () => {
  server = await startServer();
  ({ browser, page } = await launchBrowser());
  staff = await newPage(browser);
  await login(page, server, CITIZEN, server.password);
  await login(staff, server);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const main = () => page.locator('main');
const day = nextWeekday('Thu', 4);

/** Opens the resource called `name` from the list; returns its path. */
async function openResource(p, name) {
  await visit(p, server, '/buchung');
  await andWait(p, () => p.locator('main').getByRole('link', { name, exact: true }).click());
  assert.match(currentPath(p), /^\/buchung\/\d+$/);
  return currentPath(p);
}

async function book(p, { date = day.iso, start, end, title }) {
  await p.getByLabel('Datum', { exact: true }).fill(date);
  await p.getByLabel('Beginn', { exact: true }).fill(start);
  await p.getByLabel('Ende', { exact: true }).fill(end);
  await p.getByLabel('Titel', { exact: true }).fill(title);
  await andWait(p, () => p.getByRole('button', { name: 'Buchen', exact: true }).click());
}

test('end before start: a German message beside the field, the input kept', async () => {
  await openResource(page, ROOM);
  await book(page, { start: '12:00', end: '10:00', title: 'Kursabend' });
  const end = page.getByLabel('Ende', { exact: true });
  assert.equal(await end.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#f-end-error').innerText(), 'Das Ende muss nach dem Beginn liegen.');
  assert.equal(await end.getAttribute('aria-describedby'), 'f-end-error');
  assert.equal(await end.inputValue(), '10:00');
  assert.equal(await page.getByLabel('Beginn', { exact: true }).inputValue(), '12:00');
  assert.equal(await page.getByLabel('Titel', { exact: true }).inputValue(), 'Kursabend');
  assert.equal(await page.getByLabel('Datum', { exact: true }).inputValue(), day.iso);
  await main().getByRole('alert').waitFor();
  await checkStructure(page, 'booking form with end before start');
  await checkA11y(page, 'booking form with end before start');
});

test('a slot outside the opening hours is refused', async () => {
  await openResource(page, ROOM);
  await book(page, { start: '22:00', end: '23:30', title: 'Spätes Treffen' });
  assert.doesNotMatch(page.url(), /notice=/);
  assert.match(await page.locator('#f-start-error').innerText(), /Die Ressource ist zu dieser Zeit nicht geöffnet/);
  assert.equal(await page.getByLabel('Beginn', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Ende', { exact: true }).inputValue(), '23:30');
  assert.equal(await page.getByLabel('Titel', { exact: true }).inputValue(), 'Spätes Treffen');
  await checkA11y(page, 'booking outside the opening hours');
});

test('a weekly booking without an end date asks for one', async () => {
  await openResource(page, ROOM);
  await page.getByLabel('wöchentlich an diesem Wochentag').check();
  await book(page, { start: '16:00', end: '17:00', title: 'Strickkreis' });
  const until = page.getByLabel('Wiederholen bis (Datum)');
  assert.equal(await until.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#f-until-error').innerText(), /bis wann/);
  assert.ok(await page.getByLabel('wöchentlich an diesem Wochentag').isChecked(), 'weekly stays chosen');
  await checkA11y(page, 'weekly booking without an end date');
});

test('the same slot twice: the conflict box names the slot in the way', async () => {
  await openResource(page, ROOM);
  await book(page, { start: '14:00', end: '16:00', title: 'Elterncafé' });
  assert.match(page.url(), /notice=booking_confirmed/);

  await book(page, { start: '15:00', end: '17:00', title: 'Elterncafé 2' });
  const alert = main().getByRole('alert');
  assert.match(await alert.innerText(), /überschneidet sich/);
  assert.match(await alert.innerText(), /14:00–16:00/);
  assert.equal(await page.getByLabel('Titel', { exact: true }).inputValue(), 'Elterncafé 2');
  assert.equal(await page.getByLabel('Beginn', { exact: true }).inputValue(), '15:00');
  await checkA11y(page, 'booking conflict');

});

test('the resource edit page refuses a bad opening-hours value', async () => {
  const path = await openResource(staff, ROOM);
  await andWait(staff, () => staff.locator('main').getByRole('link', { name: 'Bearbeiten', exact: false }).first().click());
  assert.equal(currentPath(staff), `${path}/bearbeiten`);
  await checkStructure(staff, 'resource edit page');
  await checkA11y(staff, 'resource edit page');

  const monday = staff.getByLabel('Montag', { exact: true });
  // The format hint belongs to the group of the weekday fields.
  const hint = await monday.evaluate((el) => {
    const ids = el.closest('fieldset').getAttribute('aria-describedby') ?? '';
    return ids.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
  });
  assert.match(hint, /08:00-22:00/, 'the opening-hours group is described by its format hint');
  await monday.fill('8 bis 22 Uhr');
  await andWait(staff, () => staff.locator('main form').getByRole('button').last().click());
  assert.equal(currentPath(staff), `${path}/bearbeiten`);
  assert.equal(await monday.getAttribute('aria-invalid'), 'true');
  const error = staff.locator(`#${await monday.getAttribute('id')}-error`);
  assert.equal(await error.innerText(), 'Bitte geben Sie die Zeit als von-bis ein, z. B. 08:00-22:00.');
  assert.equal(await monday.inputValue(), '8 bis 22 Uhr');
  await staff.locator('main').getByRole('alert').waitFor();
  await checkA11y(staff, 'resource edit page with a bad opening-hours value');

  // Closing after opening is refused as well.
  await monday.fill('22:00-08:00');
  await andWait(staff, () => staff.locator('main form').getByRole('button').last().click());
  assert.equal(await monday.getAttribute('aria-invalid'), 'true');
  await checkA11y(staff, 'resource edit page with closing before opening');
});

test('a date in the school holidays is refused with the blackout named', async () => {
  // A weekday in the next demo holidays (tenant-wide blackouts) at least three days ahead.
  const HOLIDAYS = [
    ['2026-12-23', '2027-01-06', 'Weihnachtsferien'],
    ['2027-03-22', '2027-04-03', 'Osterferien'],
    ['2027-07-19', '2027-08-31', 'Sommerferien'],
    ['2027-10-25', '2027-11-06', 'Herbstferien'],
  ];
  const soon = dayAhead(3).iso;
  const hit = HOLIDAYS.find(([from]) => from >= soon);
  if (!hit) return; // The demo's holidays are past.
  const [from, , name] = hit;
  const d = new Date(`${from}T12:00:00Z`);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() + 1);
  await openResource(page, ROOM);
  await book(page, { date: d.toISOString().slice(0, 10), start: '10:00', end: '12:00', title: 'Ferienkurs' });
  assert.equal(await page.locator('#f-start-error').innerText(),
    `In diesem Zeitraum ist die Ressource gesperrt: ${name} (Beispieldaten).`);
  assert.equal(await page.getByLabel('Titel', { exact: true }).inputValue(), 'Ferienkurs');
  await checkA11y(page, 'booking in the school holidays');
});

test('rejecting a requested series needs a reason', async () => {
  await openResource(page, 'Hallendrittel B');
  await page.getByLabel('Buchen für', { exact: true }).selectOption({ label: CLUB });
  await page.getByLabel('wöchentlich an diesem Wochentag').check();
  await page.getByLabel('Wiederholen bis (Datum)').fill(dayAhead(day.offset + 28).iso);
  await page.getByLabel('Wochen in Ferien und Sperrzeiten auslassen').check();
  await book(page, { start: '18:00', end: '19:30', title: 'Tischtennis' });
  assert.match(currentPath(page), /^\/buchung\/serien\/\d+$/, `series page, got ${page.url()}`);
  const seriesPath = currentPath(page);

  // A second request for the same slots: the conflict box on the hall third.
  await openResource(page, 'Hallendrittel B');
  await page.getByLabel('Buchen für', { exact: true }).selectOption({ label: CLUB });
  await book(page, { start: '19:00', end: '20:00', title: 'Tischtennis Jugend' });
  assert.match(await main().getByRole('alert').innerText(), /überschneidet sich/);
  await checkA11y(page, 'conflict with a requested series');

  await visit(staff, server, seriesPath);
  await andWait(staff, () => staff.getByRole('button', { name: 'Alle offenen Termine ablehnen' }).click());
  const reason = staff.locator('main').getByLabel('Begründung', { exact: false });
  assert.equal(await reason.getAttribute('aria-invalid'), 'true');
  await checkStructure(staff, 'series rejected without a reason');
  await checkA11y(staff, 'series rejected without a reason');

  await reason.fill('Die Halle ist in diesen Wochen für den Schulsport reserviert.');
  await andWait(staff, () => staff.getByRole('button', { name: 'Alle offenen Termine ablehnen' }).click());
  await staff.locator('main').getByText('Die Serie wurde abgelehnt').waitFor();
  await checkA11y(staff, 'series rejected');

  await visit(page, server, seriesPath);
  assert.match(await main().locator('dl.facts').innerText(), /abgelehnt/);
  await checkA11y(page, 'rejected series (member)');
});

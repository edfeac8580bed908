// A club member requests a weekly hall slot with the keyboard only; staff approve the
// series; the club's calendar feed then holds it as one confirmed recurring event.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure, focused } from '../lib/flows.mjs';
import {
  CITIZEN, CLUB, nextWeekday, dayAhead, tabUntil, tabToField, tabToText, typeDate, typeTime,
  keyboardLogin, newPage, fetchText, vevents,
} from '../lib/booking.mjs';

const HALL = 'Sporthalle Am Markt';

let server;
let browser;
let page; // the club member
let staff; // the admin, in a second browser context

before(async () => {
  server = await startServer();
  ({ browser, page } = await launchBrowser());
  staff = await newPage(browser);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The next-but-one Tuesday, repeated weekly for about three months.
const first = nextWeekday('Tue', 8);
const until = dayAhead(first.offset + 91);
let seriesPath;

// The demo's school holidays (tenant-wide blackouts), first and last day.
const HOLIDAYS = [
  ['2026-12-23', '2027-01-06'],
  ['2027-03-22', '2027-04-03'],
  ['2027-07-19', '2027-08-31'],
  ['2027-10-25', '2027-11-06'],
  ['2027-12-24', '2028-01-08'],
];
const germanDate = (iso) => iso.split('-').reverse().join('.');

/** The series' Tuesdays (ISO dates): those booked and those skipped for the holidays. */
const expected = (() => {
  const booked = [];
  const skipped = [];
  const start = Date.UTC(+first.yyyy, +first.mm - 1, +first.dd);
  const end = Date.UTC(+until.yyyy, +until.mm - 1, +until.dd);
  for (let t = start; t <= end; t += 7 * 86_400_000) {
    const iso = new Date(t).toISOString().slice(0, 10);
    (HOLIDAYS.some(([a, b]) => a <= iso && iso <= b) ? skipped : booked).push(iso);
  }
  return { booked, skipped };
})();

test('a club member requests a weekly hall slot with the keyboard only', async () => {
  await keyboardLogin(page, server, CITIZEN, server.password);
  await checkA11y(page, 'start page of the club member');

  // Main navigation → Buchungen.
  await tabToText(page, 'Buchungen');
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.equal(currentPath(page), '/buchung');
  await checkStructure(page, 'resource list (member)');
  await checkA11y(page, 'resource list (member)');

  // The skip link, then on to the hall.
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).text, 'Zum Inhalt springen');
  await page.keyboard.press('Enter');
  await tabToText(page, HALL);
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.match(currentPath(page), /^\/buchung\/\d+$/);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), HALL);
  await checkA11y(page, 'hall (member)');

  await tabToField(page, 'date');
  await typeDate(page, first);
  await tabToField(page, 'start');
  await typeTime(page, '18:00');
  await tabToField(page, 'end');
  await typeTime(page, '20:00');
  await tabToField(page, 'title');
  await page.keyboard.type('Training Volleyball Damen');

  // "Buchen für": the club is the option after "mich selbst".
  await tabToField(page, 'organisation_id');
  await page.keyboard.press('ArrowDown');
  const select = page.getByLabel('Buchen für', { exact: true });
  assert.equal(await select.evaluate((s) => s.selectedOptions[0].text), CLUB);

  // Repetition: Tab enters the radio group on the checked "einmalig"; an arrow key picks weekly.
  assert.equal((await tabToField(page, 'repeat')).type, 'radio');
  await page.keyboard.press('ArrowDown');
  assert.ok(await page.getByLabel('wöchentlich an diesem Wochentag').isChecked(), 'weekly is chosen');

  await tabToField(page, 'until');
  await typeDate(page, until);
  await tabToField(page, 'skip_blackouts');
  await page.keyboard.press('Space');
  assert.ok(await page.getByLabel('Wochen in Ferien und Sperrzeiten auslassen').isChecked());

  await tabToText(page, 'Buchen');
  await andWait(page, () => page.keyboard.press('Enter'));

  assert.match(currentPath(page), /^\/buchung\/serien\/\d+$/, `series page, got ${page.url()}`);
  assert.match(page.url(), /notice=booking_series_created/);
  seriesPath = currentPath(page);
  await checkStructure(page, 'series page (member)');
  const facts = await page.locator('main dl.facts').innerText();
  assert.match(facts, new RegExp(HALL));
  assert.match(facts, /18:00/);
  assert.match(facts, /20:00/);

  // One row per Tuesday up to the end date, except those in the school holidays.
  const rows = page.locator('main table tbody tr');
  const texts = await rows.allInnerTexts();
  assert.deepEqual(texts.map((t) => /\d\d\.\d\d\.\d{4}/.exec(t)?.[0]), expected.booked.map(germanDate));
  for (const text of texts) {
    assert.match(text, /^Di, /, text);
    assert.match(text, /18:00–20:00/, text);
    assert.match(text, /angefragt/, text);
  }
  await checkA11y(page, 'series page with the requested occurrences');
  // The member may not decide about her own request.
  assert.equal(await page.getByRole('button', { name: 'Alle offenen Termine genehmigen' }).count(), 0);

  // "Meine Buchungen" lists the requested dates with a link to the series.
  await visit(page, server, '/buchung/meine');
  await checkStructure(page, 'my bookings (member)');
  const mine = page.locator('main table tbody tr').filter({ hasText: 'Training Volleyball Damen' });
  assert.ok(await mine.count() >= 1);
  assert.match(await mine.first().innerText(), new RegExp(CLUB.replace(/\./g, '\\.')));
  await checkA11y(page, 'my bookings with a requested series');
});

test('staff approve the series in the request queue', async () => {
  assert.ok(seriesPath, 'the series was created');
  await login(staff, server);
  await visit(staff, server, '/buchung/anfragen');
  await checkStructure(staff, 'approval queue');
  await checkA11y(staff, 'approval queue with a series');
  // The series is listed once, linked to its page, where it is decided as a whole.
  const link = staff.locator('main').getByRole('link', { name: 'Training Volleyball Damen', exact: true });
  assert.equal(await link.count(), 1, 'the queue links the series once');
  await andWait(staff, () => link.click());
  assert.equal(currentPath(staff), seriesPath);
  await checkA11y(staff, 'series page (staff, pending)');
  await andWait(staff, () => staff.getByRole('button', { name: 'Alle offenen Termine genehmigen' }).click());
  assert.equal(currentPath(staff), seriesPath);
  await staff.locator('main').getByText('Die Serie wurde genehmigt').waitFor();
  const rows = staff.locator('main table tbody tr');
  const n = await rows.count();
  let confirmed = 0;
  for (let i = 0; i < n; i++) {
    const text = await rows.nth(i).innerText();
    assert.doesNotMatch(text, /angefragt/, `row ${i} is no longer requested: ${text}`);
    if (/bestätigt/.test(text)) confirmed++;
  }
  assert.equal(confirmed, expected.booked.length, 'every date is confirmed');
  await checkA11y(staff, 'series page (approved)');
});

test('the club feed holds the approved series as a confirmed recurring event', async () => {
  await visit(page, server, '/buchung/kalender');
  await checkStructure(page, 'calendar feeds (member)');
  await checkA11y(page, 'calendar feeds (member)');
  const url = await page.getByLabel(`Kalender-Link (${CLUB})`, { exact: true }).inputValue();
  assert.match(url, /\/buchung\/kalender\/verein\//, `organisation feed URL, got ${url}`);

  const feed = await fetchText(page, new URL(url, server.url).href);
  assert.equal(feed.status, 200);
  assert.match(feed.type, /text\/calendar/);
  const events = vevents(feed.body).filter((e) => /Training Volleyball Damen/.test(e));
  const recurring = events.filter((e) => /^RRULE:/m.test(e));
  assert.equal(recurring.length, 1, `one recurring VEVENT for the series:\n${feed.body}`);
  const ev = recurring[0];
    assert.match(ev, /^RRULE:FREQ=WEEKLY/m);
  assert.match(ev, /^STATUS:CONFIRMED\r?$/m);
  assert.match(ev, new RegExp(`^DTSTART;TZID=Europe/Berlin:${first.yyyy}${first.mm}${first.dd}T180000\\r?$`, 'm'));
  // The weeks in the school holidays are left out.
  const exdates = [...ev.matchAll(/^EXDATE;TZID=Europe\/Berlin:(.*?)\r?$/gm)]
    .flatMap((m) => m[1].split(','));
  assert.deepEqual(exdates.sort(), expected.skipped.map((d) => `${d.replace(/-/g, '')}T180000`));
  assert.match(ev, new RegExp(`^DTEND;TZID=Europe/Berlin:${first.yyyy}${first.mm}${first.dd}T200000\\r?$`, 'm'));
});

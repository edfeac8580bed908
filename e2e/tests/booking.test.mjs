import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure, focused } from '../lib/flows.mjs';

const HALL = 'Turnhalle Schulzentrum';

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  ({ browser, page } = await launchBrowser());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const main = () => page.locator('main');

/** A day `days` ahead in Europe/Berlin as { iso: 'YYYY-MM-DD', dd, mm, yyyy }. */
function dayAhead(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return { iso: `${parts.year}-${parts.month}-${parts.day}`, dd: parts.day, mm: parts.month, yyyy: parts.year };
}

/**
 * The next day at least two days ahead whose day and month are the same number (01.01.,
 * 02.02., …, 12.12.): typed digit by digit it is the same date whether the browser's date
 * field asks for the day or the month first.
 */
function sameDayAndMonth() {
  for (let n = 2; n < 400; n++) {
    const d = dayAhead(n);
    if (d.dd === d.mm) return d;
  }
  throw new Error('no such day within 400 days');
}

/** Presses Tab until the field named `name` has the focus. */
async function tabTo(name) {
  let el = await focused(page);
  for (let i = 0; i < 60 && el.name !== name; i++) {
    assert.ok(i === 0 || el.inMain, `Tab left <main> before reaching ${name}: ${JSON.stringify(el)}`);
    await page.keyboard.press('Tab');
    el = await focused(page);
  }
  assert.equal(el.name, name, `Tab reaches the field ${name}`);
}

test('admin opens Buchungen and creates a hall', async () => {
  await login(page, server);
  await andWait(page, () => page.locator('nav.main-nav')
    .getByRole('link', { name: 'Buchungen', exact: true }).click());
  assert.equal(currentPath(page), '/buchung');
  await checkStructure(page, 'resource list');
  await checkA11y(page, 'resource list');

  // Errors: German messages beside the fields, the input kept.
  await page.getByLabel('Kapazität (Personen)').fill('viele');
  await andWait(page, () => page.getByRole('button', { name: 'Ressource anlegen' }).click());
  assert.match(await page.locator('#f-capacity-error').innerText(), /ganze Zahl/);
  assert.match(await page.locator('#f-name-error').innerText(), /Bitte füllen Sie dieses Feld aus/);
  assert.equal(await page.getByLabel('Kapazität (Personen)').inputValue(), 'viele');
  await checkA11y(page, 'resource form with errors');

  await page.getByLabel('Name', { exact: true }).fill(HALL);
  await page.getByLabel('Art', { exact: true }).selectOption('hall');
  await page.getByLabel('Kapazität (Personen)').fill('120');
  await andWait(page, () => page.getByRole('button', { name: 'Ressource anlegen' }).click());
  await main().getByText('Die Ressource wurde angelegt.').waitFor();
  await main().getByRole('link', { name: HALL }).waitFor();
  await checkA11y(page, 'resource list with a hall');
});

test('a slot is booked with the keyboard only and shows in the week', async () => {
  await visit(page, server, '/buchung');
  await andWait(page, () => main().getByRole('link', { name: HALL }).click());
  assert.match(currentPath(page), /^\/buchung\/\d+$/);
  await checkStructure(page, 'resource week');
  await checkA11y(page, 'resource week');

  const day = sameDayAndMonth();
  // The skip link first, then on through <main> to the booking form.
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).text, 'Zum Inhalt springen');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await tabTo('date');
  // The date field takes its parts in the order of the browser's locale.
  await page.keyboard.type(`${day.dd}${day.mm}${day.yyyy}`);
  assert.equal(await page.locator('#f-date').inputValue(), day.iso);
  // Tab also steps through the parts of a date or time field.
  await tabTo('start');
  // Hours 13 to 19 typed as two digits mean the same in 24- and 12-hour time fields.
  await page.keyboard.type('1700');
  assert.equal(await page.locator('#f-start').inputValue(), '17:00');
  await tabTo('end');
  await page.keyboard.type('1900');
  assert.equal(await page.locator('#f-end').inputValue(), '19:00');
  await tabTo('title');
  await page.keyboard.type('Training E-Jugend');
  await andWait(page, () => page.keyboard.press('Enter'));

  assert.match(page.url(), /notice=booking_confirmed/);
  await main().getByText('Die Buchung ist bestätigt.').waitFor();
  const table = main().getByRole('table');
  const row = table.getByRole('row').filter({ hasText: '17:00' });
  assert.equal(await row.count(), 1, 'the week table lists the slot');
  assert.match(await row.innerText(), /19:00/);
  assert.match(await row.innerText(), /bestätigt/);
  assert.match(await row.innerText(), new RegExp(`${day.dd}\\.${day.mm}\\.${day.yyyy}`));
  await checkA11y(page, 'resource week with a booking');

  // The same slot again: the conflict is explained with the slot in the way.
  await page.getByLabel('Datum', { exact: true }).fill(day.iso);
  await page.getByLabel('Beginn', { exact: true }).fill('18:00');
  await page.getByLabel('Ende', { exact: true }).fill('20:00');
  await page.getByLabel('Titel', { exact: true }).fill('Volleyball');
  await andWait(page, () => page.getByRole('button', { name: 'Buchen', exact: true }).click());
  const alert = main().getByRole('alert');
  assert.match(await alert.innerText(), /überschneidet sich/);
  assert.match(await alert.innerText(), /17:00–19:00/);
  assert.equal(await page.getByLabel('Titel', { exact: true }).inputValue(), 'Volleyball');
  await checkA11y(page, 'booking conflict');

  // A local time the clock change skips.
  await page.getByLabel('Datum', { exact: true }).fill('2026-03-29');
  await page.getByLabel('Beginn', { exact: true }).fill('02:30');
  await page.getByLabel('Ende', { exact: true }).fill('04:00');
  await andWait(page, () => page.getByRole('button', { name: 'Buchen', exact: true }).click());
  assert.match(await page.locator('#f-start-error').innerText(), /02:30 Uhr gibt es an diesem Tag nicht/);
  assert.equal(await page.getByLabel('Beginn', { exact: true }).inputValue(), '02:30');
  await checkA11y(page, 'booking with a skipped local time');

  // Week navigation.
  await andWait(page, () => main().getByRole('link', { name: 'Nächste Woche' }).click());
  assert.match(page.url(), /woche=\d{4}-W\d{2}/);
  await checkA11y(page, 'next week');
});

test('a request waits in the approval queue and is approved there', async () => {
  const ROOM = 'Sitzungssaal Rathaus';
  await visit(page, server, '/buchung');
  await page.getByLabel('Name', { exact: true }).fill(ROOM);
  await page.getByLabel('Art', { exact: true }).selectOption('room');
  await page.getByLabel('Buchungen müssen genehmigt werden').check();
  await andWait(page, () => page.getByRole('button', { name: 'Ressource anlegen' }).click());
  await andWait(page, () => main().getByRole('link', { name: ROOM }).click());
  const day = dayAhead(3);
  await page.getByLabel('Datum', { exact: true }).fill(day.iso);
  await page.getByLabel('Beginn', { exact: true }).fill('18:00');
  await page.getByLabel('Ende', { exact: true }).fill('20:00');
  await page.getByLabel('Titel', { exact: true }).fill('Vereinssitzung');
  await andWait(page, () => page.getByRole('button', { name: 'Buchen', exact: true }).click());
  assert.match(page.url(), /notice=booking_requested/);

  await visit(page, server, '/buchung');
  await andWait(page, () => main().getByRole('link', { name: 'Offene Anfragen bearbeiten' }).click());
  assert.equal(currentPath(page), '/buchung/anfragen');
  await checkStructure(page, 'approval queue');
  const row = main().getByRole('row').filter({ hasText: 'Vereinssitzung' });
  assert.match(await row.innerText(), /18:00–20:00/);
  await checkA11y(page, 'approval queue');

  // Rejecting without a reason: the German message beside the field.
  await andWait(page, () => row.getByRole('button', { name: /^Ablehnen/ }).click());
  const reason = main().getByLabel('Begründung der Ablehnung');
  assert.equal(await reason.getAttribute('aria-invalid'), 'true');
  assert.match(await main().locator('.field-error').innerText(), /Bitte füllen Sie dieses Feld aus/);
  await checkA11y(page, 'approval queue with an error');

  await andWait(page, () => main().getByRole('row').filter({ hasText: 'Vereinssitzung' })
    .getByRole('button', { name: /^Genehmigen/ }).click());
  await main().getByText('Die Anfrage wurde genehmigt').waitFor();
  await main().getByText('Es gibt keine offenen Anfragen.').waitFor();
  await checkA11y(page, 'approval queue emptied');
});

// A citizen books a meeting room for herself, finds it under "Meine Buchungen" with its fee
// and cancels it there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure } from '../lib/flows.mjs';
import { CITIZEN, nextWeekday, isoWeek } from '../lib/booking.mjs';

const ROOM = 'Bürgerhaus – Gruppenraum';

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

// A Wednesday at least five days ahead: well before the 24-hour cancellation deadline.
const day = nextWeekday('Wed', 5);

test('a citizen books the meeting room and cancels it under "Meine Buchungen"', async () => {
  await login(page, server, CITIZEN, server.password);
  await visit(page, server, '/buchung');
  // Citizens see what they may book: the public room, not the staff meeting rooms.
  await main().getByRole('link', { name: ROOM, exact: true }).waitFor();
  assert.equal(await main().getByRole('link', { name: 'Besprechungsraum 1.12' }).count(), 0);
  await andWait(page, () => main().getByRole('link', { name: ROOM, exact: true }).click());
  assert.match(currentPath(page), /^\/buchung\/\d+$/);
  await checkStructure(page, 'meeting room (citizen)');
  assert.match(await main().locator('dl.facts').last().innerText(), /Privatpersonen\s+10,00 €/);
  await checkA11y(page, 'meeting room (citizen)');

  await page.getByLabel('Datum', { exact: true }).fill(day.iso);
  await page.getByLabel('Beginn', { exact: true }).fill('10:00');
  await page.getByLabel('Ende', { exact: true }).fill('12:00');
  await page.getByLabel('Titel', { exact: true }).fill('Nachbarschaftstreffen');
  // A citizen who is a club member may book for the club or for herself.
  assert.equal(await page.getByLabel('Buchen für', { exact: true }).inputValue(), '');
  await andWait(page, () => page.getByRole('button', { name: 'Buchen', exact: true }).click());

  assert.match(page.url(), /notice=booking_confirmed/);
  await main().getByText('Die Buchung ist bestätigt.').waitFor();
  const row = main().getByRole('table').getByRole('row').filter({ hasText: '10:00' });
  assert.equal(await row.count(), 1, 'the week lists the booking');
  assert.match(await row.innerText(), new RegExp(`${day.dd}\\.${day.mm}\\.${day.yyyy}`));
  assert.match(await row.innerText(), /12:00/);
  assert.match(await row.innerText(), /bestätigt/);
  await checkA11y(page, 'meeting room with the confirmation notice');

  const roomPath = currentPath(page);
  await visit(page, server, '/buchung');
  await andWait(page, () => main().getByRole('link', { name: 'Meine Buchungen' }).click());
  assert.equal(currentPath(page), '/buchung/meine');
  await checkStructure(page, 'my bookings');
  const mine = main().getByRole('row').filter({ hasText: 'Nachbarschaftstreffen' });
  assert.equal(await mine.count(), 1);
  const text = await mine.innerText();
  assert.match(text, new RegExp(ROOM));
  assert.match(text, new RegExp(`${day.dd}\\.${day.mm}\\.${day.yyyy}`));
  assert.match(text, /10:00/);
  assert.match(text, /bestätigt/);
  assert.match(text, /20,00\s*€/);
  await checkA11y(page, 'my bookings with a confirmed booking');

  const cancel = mine.getByRole('button', { name: /Nachbarschaftstreffen/ });
  assert.equal(await cancel.innerText(), 'Stornieren');
  await andWait(page, () => cancel.click());
  assert.equal(currentPath(page), '/buchung/meine');
  await main().getByText('Die Buchung wurde storniert.').waitFor();
  assert.equal(await main().getByRole('row').filter({ hasText: 'Nachbarschaftstreffen' }).count(), 0);
  await main().getByText('Sie haben keine bevorstehenden Buchungen.').waitFor();
  await checkA11y(page, 'my bookings after cancelling');

  // The slot is free again.
  await visit(page, server, `${roomPath}?woche=${isoWeek(day.iso)}`);
  const rows = main().getByRole('table').getByRole('row').filter({ hasText: '10:00' });
  assert.equal(await rows.filter({ hasText: 'bestätigt' }).count(), 0, 'the cancelled slot is no longer booked');
});

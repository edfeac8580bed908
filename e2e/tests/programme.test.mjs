// Digitalisation programme (/programm): a card moved with the keyboard only (focus the card,
// Alt+Arrow right; then the "m" menu with phase and position), the aria-live region
// announcing each result; a move in one browser page showing up on a second open board
// without reloading (live updates); a meeting prepared from its generated agenda with
// minutes. axe-core finds no violation on the board, the catalogue, a measure, the concerns
// log, the team, the meetings, a meeting and the status report.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, andWait, login, checkStructure } from '../lib/flows.mjs';

let server;
let browser;
let context;
let page;

before(async () => {
  server = await startServer();
  ({ browser, context, page } = await launchBrowser());
  await login(page, server);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const announce = () => page.locator('#prog-announce');
const column = (p, key) => p.locator(`#board .prog-col[data-phase="${key}"]`);

test('every programme page passes axe', async () => {
  for (const path of ['/programm', '/programm/massnahmen', '/programm/bedenken', '/programm/team',
    '/programm/sitzungen', '/programm/bericht', '/programm/phasen', '/programm/massnahmen/neu']) {
    await visit(page, server, path);
    await checkStructure(page, path);
    await checkA11y(page, path);
  }
  await visit(page, server, '/programm/massnahmen');
  await andWait(page, () => page.locator('main table.data tbody a').first().click());
  await checkStructure(page, 'measure');
  await checkA11y(page, 'measure');
});

test('a card moves by keyboard and the result is announced', async () => {
  await visit(page, server, '/programm');
  const card = column(page, 'idee').locator('.prog-card').first();
  const id = await card.getAttribute('data-id');
  const title = await card.locator('a').innerText();
  await card.locator('a').focus();
  await page.keyboard.press('Alt+ArrowRight');
  await assert.doesNotReject(announce().filter({ hasText: 'Bewertet' }).waitFor());
  assert.match(await announce().innerText(), new RegExp(`${title}.*Bewertet`));
  await column(page, 'bewertet').locator(`#k${id}`).waitFor();
  // The focus stays on the moved card.
  assert.equal(await page.evaluate(() => document.activeElement?.closest('.prog-card')?.id), `k${id}`);

  // The menu: phase and position chosen from lists.
  await page.keyboard.press('m');
  const dialog = page.locator('#prog-move');
  await dialog.waitFor();
  await checkA11y(page, 'move menu');
  await page.locator('#prog-move-phase').selectOption('geplant');
  await page.locator('#prog-move-before').selectOption({ index: 1 });
  await page.getByRole('button', { name: 'Verschieben', exact: true }).click();
  await announce().filter({ hasText: 'Geplant' }).waitFor();
  await column(page, 'geplant').locator(`#k${id}`).waitFor();
  assert.equal(await column(page, 'geplant').locator('.prog-card').first().getAttribute('data-id'), id);
});

test('a move on one board shows up on another open board', async () => {
  const other = await context.newPage();
  await visit(other, server, '/programm');
  await visit(page, server, '/programm');
  const card = column(page, 'idee').locator('.prog-card').first();
  const id = await card.getAttribute('data-id');
  await card.locator('a').focus();
  await page.keyboard.press('Alt+ArrowRight');
  await column(other, 'bewertet').locator(`#k${id}`).waitFor({ timeout: 5_000 });
  await other.close();
});

test('a meeting is prepared from its generated agenda', async () => {
  await visit(page, server, '/programm/sitzungen');
  await page.getByLabel('Datum', { exact: true }).fill('2027-02-11');
  await page.getByLabel('Ort oder Videolink').fill('Ratssaal');
  await andWait(page, () => page.getByRole('button', { name: 'Sitzung planen' }).click());
  await checkStructure(page, 'meeting');
  await checkA11y(page, 'meeting');
  const agenda = page.locator('ol.prog-agenda > li');
  assert.ok(await agenda.count() > 0, 'the agenda lists the changes since the last meeting');
  assert.match(await page.locator('ol.prog-agenda').innerText(), /Phase gewechselt/);
  const first = page.locator('textarea[name^="item-"]').first();
  await first.fill('Beschlossen: **Start im März**.');
  await page.getByLabel('Anwesend').fill('Anna Admin');
  await andWait(page, () => page.getByRole('button', { name: 'Speichern' }).last().click());
  assert.match(await page.locator('ol.prog-agenda').innerHTML(), /<strong>Start im März<\/strong>/);
  await checkA11y(page, 'meeting with minutes');
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, andWait, login } from '../lib/flows.mjs';

// The refugees pages on the demo data, as admin: dashboard, persons, a record, the household
// move with the keyboard only, and the import page. Each page is checked with axe.

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  ({ browser, page } = await launchBrowser());
  await login(page, server);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('dashboard, persons and a record are accessible', async () => {
  let r = await visit(page, server, '/unterbringung');
  assert.equal(r.status(), 200);
  await checkA11y(page, 'refugees dashboard');
  r = await visit(page, server, '/unterbringung/personen');
  assert.equal(r.status(), 200);
  await checkA11y(page, 'refugees persons');
  await andWait(page, () => page.locator('main table a').first().click());
  await checkA11y(page, 'refugees person record');
});

test('a household moves with the keyboard only', async () => {
  const r = await visit(page, server, '/unterbringung/haushalte');
  assert.equal(r.status(), 200);
  await checkA11y(page, 'refugees households');
  const select = page.locator('main select[name="room_id"]').first();
  await select.focus();
  await page.keyboard.press('ArrowDown');
  // Tab into the date field; Enter there submits the form (implicit submission).
  await page.keyboard.press('Tab');
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.match(await page.locator('main').innerText(), /umgezogen/);
});

test('the import page is accessible', async () => {
  const r = await visit(page, server, '/unterbringung/import');
  assert.equal(r.status(), 200);
  await checkA11y(page, 'refugees import');
});

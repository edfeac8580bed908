// The knowledge module in the browser: writing a page with the preview button (no script
// from the text runs), confirming it as read, the conflict page of a concurrent save with
// both texts, and working through an onboarding checklist with the keyboard only. Every
// page passes axe-core.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure, focused, heading } from '../lib/flows.mjs';

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

const main = () => page.locator('main');

test('an editor writes a page with preview and a reader confirms it', async () => {
  await andWait(page, () => page.locator('nav.main-nav').getByRole('link', { name: 'Wissen', exact: true }).click());
  assert.equal(currentPath(page), '/wissen');
  await checkStructure(page, 'knowledge index');
  await checkA11y(page, 'knowledge index');
  await andWait(page, () => main().getByRole('link', { name: 'Dienstanweisungen', exact: true }).click());
  await checkStructure(page, 'handbook');
  await checkA11y(page, 'handbook');
  await andWait(page, () => main().getByRole('link', { name: 'Neue Seite' }).click());
  await checkA11y(page, 'new page');

  await page.getByLabel('Titel', { exact: true }).fill('Dienstanweisung Dienstreisen');
  await page.getByLabel('Text (Markdown)').fill(
    '# Dienstreisen\n\nAnträge **vorher** stellen.\n\n<script>document.title = "gehackt"</script>\n\n[Link](javascript:alert(1))',
  );
  await page.getByLabel('Lesebestätigung erforderlich', { exact: false }).check();
  await andWait(page, () => page.getByRole('button', { name: 'Vorschau' }).click());
  const preview = page.locator('section.preview');
  assert.equal(await preview.locator('strong').innerText(), 'vorher');
  assert.equal(await preview.locator('script').count(), 0);
  assert.equal(await preview.locator('a[href^="javascript"]').count(), 0);
  assert.notEqual(await page.title(), 'gehackt');
  // The text survives the preview round trip.
  assert.match(await page.getByLabel('Text (Markdown)').inputValue(), /Anträge \*\*vorher\*\* stellen/);
  await checkStructure(page, 'editor with preview');
  await checkA11y(page, 'editor with preview');

  await andWait(page, () => page.getByRole('button', { name: 'Speichern' }).click());
  assert.match(currentPath(page), /^\/wissen\/seiten\/\d+$/);
  assert.equal(await heading(page), 'Dienstanweisung Dienstreisen');
  await main().getByText('Die Seite wurde gespeichert.').waitFor();
  await checkStructure(page, 'page');
  await checkA11y(page, 'page');

  await andWait(page, () => page.getByRole('button', { name: 'Gelesen und verstanden' }).click());
  await main().getByText('Sie haben diese Fassung als gelesen bestätigt.').waitFor();
  assert.equal(await main().locator('section[aria-labelledby="confirm-title"] li').count(), 1);
  await checkA11y(page, 'page confirmed');
});

test('a concurrent save shows both texts and keeps mine on request', async () => {
  await visit(page, server, '/wissen');
  await andWait(page, () => main().getByRole('link', { name: 'Passwörter und Anmeldung' }).first().click());
  const pagePath = currentPath(page);
  await andWait(page, () => main().getByRole('link', { name: 'Bearbeiten' }).click());
  await page.getByLabel('Text (Markdown)').fill('Meine Fassung: Passwörter mit 14 Zeichen.');

  // Someone else saves first, in another tab.
  const other = await page.context().newPage();
  await visit(other, server, `${pagePath}/bearbeiten`);
  await other.getByLabel('Text (Markdown)').fill('Ihre Fassung: Passwörter mit 16 Zeichen.');
  await andWait(other, () => other.getByRole('button', { name: 'Speichern' }).click());
  await other.close();

  await andWait(page, () => page.getByRole('button', { name: 'Speichern' }).click());
  assert.equal(await heading(page), 'Die Seite wurde inzwischen geändert');
  assert.match(await page.getByLabel('Gespeicherte Fassung (nur lesen)').inputValue(), /Ihre Fassung/);
  assert.match(await page.getByLabel('Ihre Fassung', { exact: true }).inputValue(), /Meine Fassung/);
  await checkStructure(page, 'conflict');
  await checkA11y(page, 'conflict');

  await andWait(page, () => page.getByRole('button', { name: 'Meine Fassung speichern' }).click());
  assert.equal(currentPath(page), pagePath);
  await main().getByText('Meine Fassung: Passwörter mit 14 Zeichen.').waitFor();
  await andWait(page, () => main().getByRole('link', { name: 'Versionen' }).click());
  await checkA11y(page, 'versions');
  await andWait(page, () => page.getByRole('button', { name: 'Vergleichen' }).click());
  assert.ok((await main().locator('ins').count()) > 0, 'the diff marks added words');
  await checkA11y(page, 'diff');
});

test('an onboarding checklist is worked through with the keyboard only', async () => {
  await visit(page, server, '/wissen/einarbeitung');
  await checkA11y(page, 'onboardings');
  await andWait(page, () => main().getByRole('link', { name: 'Jana Neumann' }).click());
  await checkStructure(page, 'checklist');
  await checkA11y(page, 'checklist');
  const before = await main().getByRole('button', { name: /wieder öffnen/ }).count();

  await main().locator('a').first().focus();
  let el = await focused(page);
  for (let i = 0; i < 80 && !(el.tag === 'button' && el.text === 'Erledigt'); i++) {
    await page.keyboard.press('Tab');
    el = await focused(page);
  }
  assert.equal(el.text, 'Erledigt', 'Tab reaches a "done" button');
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.equal(await main().getByRole('button', { name: /wieder öffnen/ }).count(), before + 1);
  await main().getByText(/erledigt von/).first().waitFor();
  await checkA11y(page, 'checklist after a task');
});

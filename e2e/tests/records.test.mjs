// The E-Akte in the browser: a clerk opens a Wohngeld file from the list, files two
// documents at once through the upload form (no script needed), sees them with their
// versions, and finds the first one by a word inside it once text extraction caught up;
// the access log of the restricted file shows the reads. Every page passes axe-core.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure } from '../lib/flows.mjs';

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

test('a clerk files two documents into a Wohngeld file and finds one by a word inside it', async () => {
  await andWait(page, () => page.locator('nav.main-nav').getByRole('link', { name: 'E-Akte', exact: true }).click());
  assert.equal(currentPath(page), '/akten');
  await checkStructure(page, 'records list');
  await checkA11y(page, 'records list');

  // Filter the list to Wohngeld files and open the first.
  await page.getByLabel('Aktenart').selectOption('wohngeld');
  await andWait(page, () => page.getByRole('button', { name: 'Filtern' }).click());
  await andWait(page, () => main().getByRole('link', { name: /^460\.12-/ }).first().click());
  assert.match(currentPath(page), /^\/akten\/akte\/\d+$/);
  const filePath = currentPath(page);
  await checkStructure(page, 'records file');
  await checkA11y(page, 'records file');

  // Two files at once.
  const a = path.join(server.dataDir, 'mietbescheinigung.txt');
  const b = path.join(server.dataDir, 'einkommensnachweis.txt');
  await writeFile(a, 'Mietbescheinigung des Vermieters: Kaltmiete 640 Euro, Heizkostenpauschale, Quittungsnummer Zaunkoenig.');
  await writeFile(b, 'Einkommensnachweis für den Haushalt.');
  await page.getByLabel('Schlagworte (durch Komma getrennt)').fill('Nachweis');
  await page.getByLabel('Dateien (mehrere möglich)').setInputFiles([a, b]);
  await andWait(page, () => page.getByRole('button', { name: 'Hochladen' }).last().click());
  assert.equal(currentPath(page), filePath);
  await main().getByText('Die Dokumente wurden abgelegt.').waitFor();
  await main().getByRole('heading', { name: 'mietbescheinigung' }).waitFor();
  await main().getByRole('heading', { name: 'einkommensnachweis' }).waitFor();
  await checkA11y(page, 'records file with documents');

  // An empty upload keeps the page with a message.
  const empty = path.join(server.dataDir, 'leer.txt');
  await writeFile(empty, '');
  await page.getByLabel('Titel (leer: Dateiname)').fill('Leeres Blatt');
  await page.getByLabel('Dateien (mehrere möglich)').setInputFiles([empty]);
  await andWait(page, () => page.getByRole('button', { name: 'Hochladen' }).last().click());
  await main().getByText('Die Datei ist leer (0 Bytes).').waitFor();
  assert.equal(await page.getByLabel('Titel (leer: Dateiname)').inputValue(), 'Leeres Blatt');
  await checkA11y(page, 'records upload error');

  // The word inside the document is found once extraction and the index caught up (≤ 30 s).
  let found = false;
  for (let i = 0; i < 30 && !found; i += 1) {
    await visit(page, server, '/akten/suche?q=Zaunkoenig');
    found = (await main().getByRole('link', { name: 'mietbescheinigung' }).count()) > 0;
    if (!found) await page.waitForTimeout(1000);
  }
  assert.ok(found, 'the uploaded document was not found by a word inside it within 30 s');
  await checkStructure(page, 'records search');
  await checkA11y(page, 'records search');
  await andWait(page, () => main().getByRole('link', { name: 'mietbescheinigung' }).click());
  assert.equal(currentPath(page), filePath);

  // The restricted file's access log lists the reads.
  await main().getByRole('heading', { name: 'Zugriffsprotokoll' }).waitFor();
  assert.ok((await main().getByRole('cell', { name: 'Akte geöffnet' }).count()) >= 1);
});

test('the file plan, the inbox, follow-ups and the dog-tax register pass axe', async () => {
  for (const p of ['/akten/aktenplan', '/akten/posteingang', '/akten/wiedervorlagen', '/akten/hunderegister', '/akten/neu']) {
    await visit(page, server, p);
    await checkStructure(page, p);
    await checkA11y(page, p);
  }
});

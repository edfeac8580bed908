// The E-Akte in the browser: a clerk opens a Wohngeld file from the list, files two
// documents at once through the upload form (no script needed), sees them with their
// versions, and finds the first one by a word inside it once text extraction caught up;
// the access log of the restricted file shows the reads. Scans reach the inbox by drag and
// drop and through the consume folder of a department. Every page passes axe-core.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
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

test('scans reach the inbox by drag and drop and through a department\'s consume folder', async () => {
  // Dropped onto the upload form, the file goes into the field and the form is sent at once.
  await visit(page, server, '/akten/posteingang?bereich=');
  await page.locator('.drop-hint').waitFor();
  await checkA11y(page, 'inbox with drop zone');
  const dropped = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['Gezogener Scan'], 'gezogen.pdf', { type: 'application/pdf' }));
    return dt;
  });
  await andWait(page, () => page.dispatchEvent('form[data-drop-submit]', 'drop', { dataTransfer: dropped }));
  await main().getByText('Die Dokumente wurden abgelegt.').waitFor();
  await main().getByRole('heading', { name: 'gezogen.pdf' }).waitFor();

  // Assigned by a word of the subject: "Bau" matches several open files, which are offered.
  const card = main().locator('article', { has: page.getByRole('heading', { name: 'gezogen.pdf' }) });
  await card.getByLabel('Aktenzeichen oder Betreff').fill('Bau');
  await andWait(page, () => card.getByRole('button', { name: 'Zuordnen', exact: true }).click());
  await main().getByText(/offene Akten passen/).first().waitFor();
  assert.equal(await card.getByLabel('Aktenzeichen oder Betreff').inputValue(), 'Bau');
  await checkA11y(page, 'inbox with matching files');
  const choices = card.getByRole('button', { name: /^Zuordnen zu / });
  assert.ok((await choices.count()) >= 2);
  await andWait(page, () => choices.first().click());
  await main().getByText('Das Dokument wurde der Akte zugeordnet.').waitFor();

  // The server made a folder per department; a file put into one lands in its inbox.
  let folders = [];
  for (let i = 0; i < 40 && folders.length === 0; i += 1) {
    folders = (await readdir(server.consumeDir).catch(() => [])).filter((n) => !n.startsWith('.'));
    if (folders.length === 0) await page.waitForTimeout(250);
  }
  assert.ok(folders.includes('Bürgerbüro'), `department folders: ${folders}`);
  await writeFile(path.join(server.consumeDir, 'Bürgerbüro', 'kopierer-0815.pdf'), 'Scan aus dem Kopierer');
  await visit(page, server, '/akten/posteingang');
  await page.getByLabel('Posteingang von').selectOption({ label: 'Bürgerbüro' });
  await andWait(page, () => page.getByRole('button', { name: 'Anzeigen' }).click());
  const inboxUrl = page.url();
  let seen = false;
  for (let i = 0; i < 60 && !seen; i += 1) {
    seen = (await main().getByRole('heading', { name: 'kopierer-0815.pdf' }).count()) > 0;
    if (!seen) {
      await page.waitForTimeout(500);
      await page.goto(inboxUrl);
    }
  }
  assert.ok(seen, 'the scanned file did not reach the department inbox within 30 s');
});

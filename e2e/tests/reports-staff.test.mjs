// Mängelmelder, the staff side: a citizen files a report through the public form; staff sign
// in, find it in the inbox, triage it, answer publicly and close it; the citizen's secret
// status page shows the answer. axe-core finds no violation on any staff page and state
// (inbox, empty inbox, detail, detail with errors, moderation queue, overdue view, map,
// statistics with and without errors, settings with errors, categories, category form with
// errors, API keys with a new key).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, checkStructure } from '../lib/flows.mjs';

let server;
let browser;
let page;
let statusUrl;
let reference;

before(async () => {
  server = await startServer();
  ({ browser, page } = await launchBrowser());
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const main = () => page.locator('main');
const REPLY = 'Das Verkehrszeichen wurde wieder gerade gestellt.';

test('a citizen files a report through the public form', async () => {
  await visit(page, server, '/maengel/melden');
  await page.locator('#f-category').selectOption({ label: 'Verkehrszeichen' });
  await page.locator('#f-address').fill('Schulstraße 7');
  await page.locator('#f-description').fill('Das Stoppschild an der Ecke ist verdreht.');
  await page.locator('#f-consent').check();
  await page.locator('#report-form button[type=submit]').click();
  await page.waitForURL(/\/maengel\/status\/[^/?]+/, { timeout: 60_000 });
  await page.waitForLoadState('load');
  statusUrl = page.url();
  reference = /M-\d{4}-\d{6}/.exec(await main().innerText())[0];
  assert.ok(reference);
});

test('staff triage the report from the inbox, answer publicly and close it', async () => {
  await login(page, server);
  await andWait(page, () => page.locator('nav.main-nav')
    .getByRole('link', { name: 'Mängelmelder', exact: true }).click());
  assert.equal(currentPath(page), '/maengel/verwaltung');
  // The admin's department (Hauptamt) has no reports: the default inbox is empty.
  await checkStructure(page, 'inbox of the own department');
  assert.match(await main().innerText(), /Hauptamt/);
  await checkA11y(page, 'inbox of the own department');

  // All departments, with the filter form.
  await page.getByLabel('Fachbereich', { exact: true }).selectOption({ label: 'Alle Fachbereiche' });
  await andWait(page, () => main().getByRole('button', { name: 'Anzeigen' }).click());
  assert.match(page.url(), /bereich=alle/);
  await checkStructure(page, 'inbox');
  await checkA11y(page, 'inbox');

  // Keyboard: the reference link in the inbox opens the report.
  const link = main().getByRole('link', { name: reference, exact: true });
  await link.focus();
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.match(currentPath(page), /^\/maengel\/verwaltung\/\d+$/);
  const detail = currentPath(page);
  await checkStructure(page, 'report detail');
  assert.match(await main().innerText(), /Stoppschild an der Ecke/);
  assert.match(await main().innerText(), /Koordinaten: 51\.\d+, 7\.\d+/);
  await checkA11y(page, 'report detail');

  // Triage: confirmed and assigned to nobody in particular.
  await page.getByLabel('Status', { exact: true }).selectOption({ label: 'Bestätigt' });
  await page.getByLabel('Priorität').selectOption({ label: 'Hoch' });
  await andWait(page, () => main().getByRole('button', { name: 'Speichern', exact: true }).click());
  await main().getByText('Die Meldung wurde gespeichert.').waitFor();
  assert.equal(currentPath(page), detail);

  // A duplicate without its original: a German message beside the field, input kept.
  await page.getByLabel('Status', { exact: true }).selectOption({ label: 'Duplikat' });
  await page.getByLabel('Interne Notiz').fill('Vielleicht doppelt?');
  await andWait(page, () => main().getByRole('button', { name: 'Speichern', exact: true }).click());
  assert.match(
    await page.locator('#f-duplicate_of-error').innerText(),
    /Aktenzeichen der ursprünglichen Meldung/,
  );
  assert.equal(await page.getByLabel('Interne Notiz').inputValue(), 'Vielleicht doppelt?');
  assert.equal(await page.locator('#f-duplicate_of').getAttribute('aria-invalid'), 'true');
  await checkStructure(page, 'report detail with errors');
  await checkA11y(page, 'report detail with errors');

  // Answer publicly and close.
  await page.getByLabel('Status', { exact: true }).selectOption({ label: 'Erledigt' });
  await page.getByLabel('Interne Notiz').fill('');
  await page.getByLabel('Öffentliche Antwort').fill(REPLY);
  await andWait(page, () => main().getByRole('button', { name: 'Speichern', exact: true }).click());
  await main().getByText('Die Meldung wurde gespeichert.').waitFor();
  const text = await main().innerText();
  assert.match(text, /Erledigt/);
  assert.match(text, new RegExp(REPLY));
  await checkA11y(page, 'report detail after closing');

  // Closed: no longer in the open inbox.
  await visit(page, server, '/maengel/verwaltung?bereich=alle');
  assert.equal(await main().getByRole('link', { name: reference, exact: true }).count(), 0);
  await visit(page, server, '/maengel/verwaltung?bereich=alle&status=done');
  await main().getByRole('link', { name: reference, exact: true }).waitFor();
});

test("the citizen's status page shows the answer", async () => {
  await page.goto(statusUrl, { waitUntil: 'load' });
  await checkStructure(page, 'status page');
  const text = await main().innerText();
  assert.match(text, new RegExp(REPLY));
  assert.match(text, /Erledigt/);
  await checkA11y(page, 'status page with the answer');
});

test('a bulk action by keyboard: errors beside the fields, then all selected change', async () => {
  await visit(page, server, '/maengel/verwaltung?bereich=alle');
  // Sent without a selection: German messages, nothing changed.
  await page.getByLabel('Aktion').selectOption({ label: 'Person zuweisen' });
  await andWait(page, () => main().getByRole('button', { name: 'Auf Auswahl anwenden' }).click());
  await main().getByText('Bitte wählen Sie mindestens eine Meldung aus.').waitFor();
  assert.equal(await page.locator('#f-b-assignee').getAttribute('aria-invalid'), 'true');
  await checkStructure(page, 'inbox with bulk errors');
  await checkA11y(page, 'inbox with bulk errors');

  // Keyboard only: tick the first two reports, choose the action and the person, send.
  const boxes = main().locator('input[name=ids]');
  assert.ok(await boxes.count() >= 2);
  for (const i of [0, 1]) {
    await boxes.nth(i).focus();
    await page.keyboard.press('Space');
    assert.ok(await boxes.nth(i).isChecked());
  }
  await page.getByLabel('Aktion').focus();
  await page.keyboard.type('Person');
  await page.getByLabel('Person zuweisen', { exact: true }).selectOption({ label: 'Anna Admin' });
  await main().getByRole('button', { name: 'Auf Auswahl anwenden' }).focus();
  await andWait(page, () => page.keyboard.press('Enter'));
  await main().getByText('2 Meldung(en) geändert.').waitFor();
  assert.match(page.url(), /bereich=alle/, 'the filters are kept');
  await checkA11y(page, 'inbox after a bulk action');
  // Assigned to her: now in her default inbox too.
  await visit(page, server, '/maengel/verwaltung');
  assert.equal(await main().locator('input[name=ids]').count(), 2);
});

test('every other staff page and state is accessible', async () => {
  const pages = [
    ['/maengel/verwaltung?az=X-0000-000000', 'empty inbox', 'Keine Meldungen gefunden.'],
    ['/maengel/verwaltung?status=alle&bereich=alle', 'inbox with all reports', null],
    ['/maengel/verwaltung/moderation', 'moderation queue', null],
    ['/maengel/verwaltung/ueberfaellig', 'overdue view', null],
    ['/maengel/verwaltung/karte', 'map of open reports', null],
    ['/maengel/verwaltung/statistik', 'statistics', null],
    ['/maengel/verwaltung/statistik?von=kaputt', 'statistics with an error', 'Bitte ein Datum'],
    ['/maengel/einstellungen', 'settings', null],
    ['/maengel/einstellungen/kategorien', 'categories', null],
    ['/maengel/einstellungen/kategorien/neu', 'new category', null],
    ['/maengel/einstellungen/api-schluessel', 'API keys', null],
  ];
  for (const [path, label, expect] of pages) {
    await visit(page, server, path);
    await checkStructure(page, label);
    if (expect) await main().getByText(expect).first().waitFor();
    await checkA11y(page, label);
  }

  // The map list works without the map: the demo's open reports are listed.
  await visit(page, server, '/maengel/verwaltung/karte?bereich=alle');
  assert.ok(await main().locator('table tbody tr').count() > 0);
  await checkA11y(page, 'map of all open reports');

  // Settings with errors.
  await visit(page, server, '/maengel/einstellungen');
  await page.getByLabel('Umkreis für „Schon gemeldet?“ (Meter)').fill('viele');
  await andWait(page, () => main().getByRole('button', { name: 'Speichern', exact: true }).click());
  assert.match(await page.locator('#f-duplicate_radius_m-error').innerText(), /ganze Zahl/);
  assert.equal(await page.getByLabel('Umkreis für „Schon gemeldet?“ (Meter)').inputValue(), 'viele');
  await checkA11y(page, 'settings with errors');

  // A category with a bad attribute line.
  await visit(page, server, '/maengel/einstellungen/kategorien/neu');
  await page.getByLabel('Name', { exact: true }).fill('Baumschaden');
  await page.getByLabel('Code', { exact: true }).fill('baum');
  await page.getByLabel('Zusatzfragen').fill('art | Art | liste');
  await andWait(page, () => main().getByRole('button', { name: 'Speichern', exact: true }).click());
  assert.match(await page.locator('#f-attributes-error').innerText(), /Zeile 1: Unbekannter Typ/);
  assert.equal(await page.getByLabel('Zusatzfragen').inputValue(), 'art | Art | liste');
  await checkA11y(page, 'category form with errors');

  // An API key, shown once.
  await visit(page, server, '/maengel/einstellungen/api-schluessel');
  await page.getByLabel('Name', { exact: true }).fill('Stadt-App');
  await andWait(page, () => main().getByRole('button', { name: 'Schlüssel anlegen' }).click());
  assert.match(await page.locator('#new-key').inputValue(), /^r311_/);
  await checkA11y(page, 'API keys with a new key');
  await visit(page, server, '/maengel/einstellungen/api-schluessel');
  assert.equal(await page.locator('#new-key').count(), 0);
  await main().getByRole('cell', { name: /r311_/ }).first().waitFor();
});

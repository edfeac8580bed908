// The disposal of the E-Akte in the browser (issue 11): the due list of the demo, a deletion
// run of a V file with its confirmation step, and the hand-over steps of two A files —
// offer (0501 download), a wrong upload that keeps the page, the archive's appraisal (0502,
// one file archived, one destroyed), the 0503 ZIP, the import confirmation (0506) — and the
// deletion records. No script needed; every page and error state passes axe-core.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

/** The xdomea object id of a file in an offer (as `ObjectId::derived` in rathaus-xdomea). */
function fileObjectId(processId, fileId) {
  const ns = Buffer.from(processId.replaceAll('-', ''), 'hex');
  const id = Buffer.alloc(8);
  id.writeBigInt64BE(BigInt(fileId));
  const b = createHash('sha256').update(ns).update('file').update(id).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function kopf(pid, type) {
  return `<xdomea:Kopf>
    <xdomea:ProzessID>${pid}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0"><code>${type}</code></xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>${new Date().toISOString().slice(0, 19)}Z</xdomea:Erstellungszeitpunkt>
    <xdomea:Absender><xdomea:Institution><xdomea:Name>Landesarchiv Thüringen</xdomea:Name></xdomea:Institution></xdomea:Absender>
    <xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Gemeinde</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>
    <xdomea:SendendesSystem><xdomea:Produktname>Archiv</xdomea:Produktname></xdomea:SendendesSystem>`;
}

const NS = 'xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0"';

function appraisal(pid, decisions) {
  const objects = decisions.map(([id, code]) => `<xdomea:BewertetesObjekt>
    <xdomea:ID>${fileObjectId(pid, id)}</xdomea:ID>
    <xdomea:Aussonderungsart><xdomea:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0"><code>${code}</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart>
  </xdomea:BewertetesObjekt>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<xdomea:Aussonderung.Bewertungsverzeichnis.0502 ${NS}>
  ${kopf(pid, '0502')}
    <xdomea:Empfangsbestaetigung>1</xdomea:Empfangsbestaetigung>
  </xdomea:Kopf>
  ${objects}
</xdomea:Aussonderung.Bewertungsverzeichnis.0502>`;
}

function importConfirmation(pid, id) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<xdomea:Aussonderung.AussonderungImportBestaetigen.0506 ${NS}>
  ${kopf(pid, '0506')}
  </xdomea:Kopf>
  <xdomea:AusgesondertesSGO>
    <xdomea:IDSGO>${fileObjectId(pid, id)}</xdomea:IDSGO>
    <xdomea:Erfolgreich>1</xdomea:Erfolgreich>
    <xdomea:Archivkennung>StA 1-${id}</xdomea:Archivkennung>
  </xdomea:AusgesondertesSGO>
</xdomea:Aussonderung.AussonderungImportBestaetigen.0506>`;
}

async function upload(label, name, content) {
  const f = path.join(server.dataDir, name);
  await writeFile(f, content);
  await page.locator(label === 'Bewertung übernehmen' ? '#f-0502' : '#f-receipt').setInputFiles(f);
  await andWait(page, () => page.getByRole('button', { name: label }).click());
}

const row = (text) => main().locator('tr', { hasText: text });

test('the due list, a deletion run with confirmation and the hand-over steps', async () => {
  await andWait(page, () => page.locator('nav.main-nav').getByRole('link', { name: 'Aussonderung', exact: true }).click());
  assert.equal(currentPath(page), '/akten/aussonderung');
  await checkStructure(page, 'disposal due list');
  await checkA11y(page, 'disposal due list');
  await main().getByText('Kassenbelege Gebühren 2010').waitFor();

  // Deletion of a V file: select → confirm page → run.
  await row('Kassenbelege Gebühren 2010').getByRole('checkbox').check();
  await andWait(page, () => page.getByRole('button', { name: 'Ausgewählte V-Akten zur Löschung vorbereiten' }).click());
  await checkA11y(page, 'disposal confirm');
  await andWait(page, () => page.getByRole('button', { name: 'Endgültig löschen' }).click());
  await main().getByText('Gelöscht: 1').waitFor();
  await checkA11y(page, 'disposal run report');

  // Offer two A files.
  await visit(page, server, '/akten/aussonderung');
  const council = row('Sitzungen des Gemeinderats 1988');
  const barn = row('Mühlenstraße 7');
  const councilId = Number(await council.getByRole('checkbox').getAttribute('value'));
  const barnId = Number(await barn.getByRole('checkbox').getAttribute('value'));
  await council.getByRole('checkbox').check();
  await barn.getByRole('checkbox').check();
  await andWait(page, () => page.getByRole('button', { name: 'Ausgewählte A/B-Akten dem Archiv anbieten' }).click());
  assert.match(currentPath(page), /^\/akten\/aussonderung\/anbietung\/[0-9a-f-]{36}$/);
  const pid = currentPath(page).split('/').pop();
  await main().getByText('Die Akten wurden dem Archiv angeboten.').waitFor();
  await checkStructure(page, 'disposal offer');
  await checkA11y(page, 'disposal offer');

  // The 0501 download.
  const href = await main().getByRole('link', { name: 'Nachricht 0501 herunterladen' }).getAttribute('href');
  const m0501 = await page.request.get(new URL(href, server.url).href);
  assert.equal(m0501.status(), 200);
  assert.match(await m0501.text(), /Mühlenstraße/);

  // A wrong message keeps the page and says why.
  await upload('Bewertung übernehmen', 'falsch.xml', await m0501.text());
  await main().getByText(/falschen Typ/).waitFor();
  await checkA11y(page, 'disposal wrong upload');

  // The appraisal: the council file archived, the barn file destroyed.
  await upload('Bewertung übernehmen', 'bewertung.xml', appraisal(pid, [[councilId, 'A'], [barnId, 'V']]));
  await main().getByText('Die Bewertung des Archivs wurde übernommen.').waitFor();
  await checkA11y(page, 'disposal appraised');

  // The hand-over ZIP.
  const zipHref = await main().getByRole('link', { name: 'Aussonderungspaket (ZIP) herunterladen' }).getAttribute('href');
  const zip = await page.request.get(new URL(zipHref, server.url).href);
  assert.equal(zip.status(), 200);
  assert.equal(zip.headers()['content-type'], 'application/zip');
  assert.equal((await zip.body()).subarray(0, 2).toString(), 'PK');

  // The import confirmation deletes the archived file.
  await visit(page, server, `/akten/aussonderung/anbietung/${pid}`);
  await upload('Nachricht übernehmen', 'import.xml', importConfirmation(pid, councilId));
  await main().getByText('Die Nachricht des Archivs wurde übernommen.').waitFor();
  await main().getByText(`übernommen (StA 1-${councilId})`).waitFor();
  await checkA11y(page, 'disposal imported');

  await andWait(page, () => main().getByRole('link', { name: 'Löschprotokoll' }).first().click());
  assert.equal(currentPath(page), '/akten/aussonderung/loeschprotokoll');
  for (const t of ['Kassenbelege Gebühren 2010', 'Mühlenstraße 7', 'Sitzungen des Gemeinderats 1988']) {
    await main().getByText(t).first().waitFor();
  }
  await checkStructure(page, 'disposal deletion records');
  await checkA11y(page, 'disposal deletion records');
});

// Pages and states beyond the main flows: edit forms, error states, the second factor,
// token creation, filters, the English version. axe-core runs on each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, login, logout, submitLogin, checkStructure, andWait, heading } from '../lib/flows.mjs';
import { totp } from '../lib/totp.mjs';

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

async function check(label) {
  await checkStructure(page, label);
  await checkA11y(page, label);
}

test('edit forms of a user, a role and a footer page', async () => {
  await visit(page, server, '/admin/users');
  await andWait(page, () => page.getByRole('link', { name: 'Erika Mustermann' }).click());
  assert.match(currentPath(page), /^\/admin\/users\/\d+$/);
  await check('user edit');

  await visit(page, server, '/admin/roles');
  // The main area: the header's navigation has a module link of the same name.
  await andWait(page, () =>
    page.locator('#main').getByRole('link', { name: 'Digitalisierung' }).click());
  assert.match(currentPath(page), /^\/admin\/roles\/\d+$/);
  await check('role edit');

  await visit(page, server, '/admin/pages/impressum');
  await check('page edit');
  assert.match(await page.getByLabel('Text').inputValue(), /Marktplatz 1/);
});

test('error states keep the input and pass axe', async () => {
  await visit(page, server, '/admin/departments');
  await andWait(page, () => page.getByRole('button', { name: 'Fachbereich anlegen' }).click());
  assert.equal(currentPath(page), '/admin/departments');
  assert.match(await page.locator('.field-error').first().innerText(), /Bitte/);
  await check('department form with error');

  await visit(page, server, '/admin/users/new');
  await page.getByLabel('Name', { exact: true }).fill('Zoe Zeitlich');
  await page.getByLabel('E-Mail-Adresse').fill('keine-adresse');
  await page.getByLabel('Vorläufiges Passwort').fill('kurz');
  await page.evaluate(() => { for (const f of document.forms) f.noValidate = true; });
  await andWait(page, () => page.getByRole('button', { name: 'Benutzer anlegen' }).click());
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Zoe Zeitlich');
  assert.equal(await page.locator('[aria-invalid="true"]').count(), 2);
  await check('user form with errors');

  await visit(page, server, '/admin/settings');
  await page.getByLabel(/Neues Wappen/).setInputFiles({ name: 'wappen.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.7 kein Bild') });
  await andWait(page, () => page.getByRole('button', { name: 'Wappen hochladen' }).click());
  assert.match(await page.locator('.field-error').innerText(), /PNG, JPEG oder WebP/);
  await check('settings with a refused upload');
});

test('a new API token is shown once', async () => {
  await visit(page, server, '/account/tokens');
  await page.getByLabel('Bezeichnung').fill('Fachverfahren');
  await andWait(page, () => page.getByRole('button', { name: 'Token erzeugen' }).click());
  const secret = await page.locator('.flash code.secret').innerText();
  assert.match(secret, /^rh_/);
  await check('token created');
  await visit(page, server, '/account/tokens');
  assert.equal(await page.locator('code.secret').count(), 0, 'not shown again');
});

test('audit filter and job filter', async () => {
  await visit(page, server, '/admin/audit');
  await page.getByLabel('Aktion').selectOption('login');
  await andWait(page, () => page.getByRole('button', { name: 'Filtern' }).first().click());
  assert.match(page.url(), /action=login/);
  await check('audit filtered');
  await visit(page, server, '/admin/jobs?status=failed');
  await check('jobs filtered');
});

test('second factor: set up, then required at login', async () => {
  await visit(page, server, '/account/totp');
  await check('totp setup');
  assert.equal(await page.locator('.qr svg').count(), 1, 'QR code is inline SVG');
  const secret = (await page.locator('code.secret').innerText()).trim();
  // Each code is accepted once: set up with the previous step's code (the server accepts one
  // step either way), so the current one is still fresh for the login below.
  await page.getByLabel(/Sechsstelliger Code/).fill(totp(secret, Date.now() - 30_000));
  await andWait(page, () => page.getByRole('button', { name: 'Zwei-Faktor-Anmeldung einschalten' }).click());
  assert.equal(currentPath(page), '/account');

  await logout(page);
  await submitLogin(page, server, server.email, server.password);
  assert.equal(currentPath(page), '/login/totp');
  await check('login second step');
  await page.getByLabel(/Sechsstelliger Code/).fill('000000' === totp(secret) ? '111111' : '000000');
  await andWait(page, () => page.getByRole('button', { name: 'Bestätigen' }).click());
  assert.equal(currentPath(page), '/login/totp');
  await check('login second step with a wrong code');
  await page.getByLabel(/Sechsstelliger Code/).fill(totp(secret));
  await andWait(page, () => page.getByRole('button', { name: 'Bestätigen' }).click());
  assert.equal(currentPath(page), '/staff');
});

test('English version', async () => {
  await visit(page, server, '/');
  await andWait(page, () => page.getByRole('link', { name: 'English' }).click());
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.match(await heading(page), /Welcome/);
  await checkA11y(page, 'home in English');
  await andWait(page, () => page.getByRole('link', { name: 'Deutsch' }).click());
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, submitLogin, login, logout } from '../lib/flows.mjs';

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

test('public start page', async () => {
  const response = await visit(page, server, '/');
  assert.equal(response.status(), 200);
  await checkA11y(page, 'start page');
});

test('login page', async () => {
  const response = await visit(page, server, '/login');
  assert.equal(response.status(), 200);
  await page.getByLabel('E-Mail-Adresse', { exact: true }).waitFor();
  await page.getByLabel('Passwort', { exact: true }).waitFor();
  await checkA11y(page, 'login page');
});

test('wrong password shows a German error and keeps the e-mail', async () => {
  await submitLogin(page, server, server.email, 'falsches-Passwort-123');
  assert.equal(currentPath(page), '/login');
  const alert = page.getByRole('alert');
  await alert.first().waitFor();
  assert.match(await alert.first().innerText(), /E-Mail-Adresse oder Passwort ist falsch/);
  assert.equal(await page.getByLabel('E-Mail-Adresse', { exact: true }).inputValue(), server.email);
  await checkA11y(page, 'login page with error');
});

test('successful login lands on /staff', async () => {
  await login(page, server);
  assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1);
  await checkA11y(page, 'staff start page');
});

test('logout ends the session', async () => {
  await logout(page);
  assert.ok(['/login', '/'].includes(currentPath(page)), `after logout on ${page.url()}`);
  await visit(page, server, '/staff');
  assert.equal(currentPath(page), '/login', '/staff without a session redirects to /login');
});

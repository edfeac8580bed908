import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, login, logout, heading } from '../lib/flows.mjs';

const ROLE = 'Sachbearbeitung Test';
const USER = {
  name: 'Erika Mustermann',
  email: 'erika.mustermann@beispielstadt.example',
  password: 'Vorlaeufig-E2E-Passwort-4711',
};

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

test('admin creates a role', async () => {
  await login(page, server);
  const response = await visit(page, server, '/admin/roles');
  assert.equal(response.status(), 200);
  await checkA11y(page, 'role list');

  await andWait(page, () => page.getByRole('link', { name: 'Neue Rolle' }).click());
  assert.equal(currentPath(page), '/admin/roles/new');
  await checkA11y(page, 'new role form');

  await page.getByLabel('Name der Rolle').fill(ROLE);
  await page.locator('input[type="checkbox"][name="permissions"][value="admin.audit"]').check();
  await andWait(page, () => page.getByRole('button', { name: 'Rolle anlegen' }).click());
  await checkA11y(page, 'after creating a role');

  await visit(page, server, '/admin/roles');
  await main().getByText(ROLE, { exact: true }).first().waitFor();
});

test('role form with an empty name keeps the input and explains the error', async () => {
  await visit(page, server, '/admin/roles/new');
  const description = 'Diese Beschreibung muss erhalten bleiben.';
  const name = page.getByLabel('Name der Rolle');
  // Skip the browser's own check of `required` so that the server's answer is tested.
  await name.evaluate((input) => { input.form.noValidate = true; });
  await page.locator('[name="description"]').fill(description);
  await andWait(page, () => page.getByRole('button', { name: 'Rolle anlegen' }).click());

  const error = page.locator('.field-error');
  await error.first().waitFor();
  assert.match(await error.first().innerText(), /Bitte/);
  assert.equal(await page.locator('[name="description"]').inputValue(), description);
  await checkA11y(page, 'new role form with error');
});

test('admin creates a user with the new role', async () => {
  const response = await visit(page, server, '/admin/users');
  assert.equal(response.status(), 200);
  await checkA11y(page, 'user list');

  await andWait(page, () => page.getByRole('link', { name: 'Neuer Benutzer' }).click());
  assert.equal(currentPath(page), '/admin/users/new');
  await checkA11y(page, 'new user form');

  await page.getByLabel('Name', { exact: true }).fill(USER.name);
  await page.getByLabel('E-Mail-Adresse', { exact: true }).fill(USER.email);
  await page.getByLabel('Vorläufiges Passwort').fill(USER.password);
  const roleBox = page.getByLabel(ROLE, { exact: true });
  assert.equal(await roleBox.getAttribute('name'), 'roles');
  await roleBox.check();
  const department = page.getByLabel('Fachbereich', { exact: true });
  assert.equal(await department.getAttribute('name'), 'department_id');
  await department.selectOption({ label: 'Hauptamt' });
  await andWait(page, () => page.getByRole('button', { name: 'Benutzer anlegen' }).click());
  await checkA11y(page, 'after creating a user');

  await visit(page, server, '/admin/users');
  await main().getByText(USER.email).first().waitFor();
});

test('the new user may read the audit log but not manage users', async () => {
  await logout(page);
  await login(page, server, USER.email, USER.password);
  await checkA11y(page, 'staff start page of the new user');

  const forbidden = await visit(page, server, '/admin/users');
  assert.equal(forbidden.status(), 403);
  assert.match(await heading(page), /Keine Berechtigung/);
  await checkA11y(page, '403 page');

  const audit = await visit(page, server, '/admin/audit');
  assert.equal(audit.status(), 200);
  assert.match(await main().innerText(), /login/i);
  await checkA11y(page, 'audit log');
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, login, checkStructure, heading } from '../lib/flows.mjs';

const PUBLIC_PAGES = ['/impressum', '/datenschutz', '/barrierefreiheit'];
const ADMIN_PAGES = [
  '/admin/departments',
  '/admin/audit',
  '/admin/jobs',
  '/admin/settings',
  '/account',
  '/account/tokens',
];

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

for (const path of PUBLIC_PAGES) {
  test(`public page ${path}`, async () => {
    const response = await visit(page, server, path);
    assert.equal(response.status(), 200);
    assert.equal(currentPath(page), path);
    await checkStructure(page, path);
    await checkA11y(page, path);
  });
}

test('unknown page answers 404 in German', async () => {
  const response = await visit(page, server, '/gibt-es-nicht');
  assert.equal(response.status(), 404);
  assert.match(await heading(page), /nicht gefunden/);
  await checkStructure(page, '404 page');
  await checkA11y(page, '404 page');
});

test('admin logs in', async () => {
  await login(page, server);
});

for (const path of ADMIN_PAGES) {
  test(`staff page ${path}`, async () => {
    const response = await visit(page, server, path);
    assert.equal(response.status(), 200);
    assert.equal(currentPath(page), path);
    await checkStructure(page, path);
    await checkA11y(page, path);
  });
}

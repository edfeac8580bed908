import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, focused, andWait } from '../lib/flows.mjs';

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

test('login with the keyboard only', async () => {
  await visit(page, server, '/login');
  await checkA11y(page, 'login page');

  await page.keyboard.press('Tab');
  const skip = await focused(page);
  assert.equal(skip.tag, 'a', 'first Tab focuses a link');
  assert.equal(skip.text, 'Zum Inhalt springen');
  assert.ok(skip.href?.endsWith('#main'), `skip link points to #main, got ${skip.href}`);

  // The skip link moves the focus start to <main>; the next Tab lands inside it.
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  let el = await focused(page);
  assert.ok(el.inMain, `after the skip link, focus should be inside <main>, got ${JSON.stringify(el)}`);

  // Tab on through the form until the e-mail field has the focus.
  for (let i = 0; i < 20 && el.name !== 'email'; i++) {
    await page.keyboard.press('Tab');
    el = await focused(page);
    assert.ok(el.inMain, `Tab left <main> before reaching the e-mail field: ${JSON.stringify(el)}`);
  }
  assert.equal(el.name, 'email', 'Tab reaches the e-mail field');
  await page.keyboard.type(server.email);

  await page.keyboard.press('Tab');
  el = await focused(page);
  assert.equal(el.name, 'password', 'Tab after the e-mail field focuses the password field');
  assert.equal(el.type, 'password');
  await page.keyboard.type(server.password);

  await andWait(page, () => page.keyboard.press('Enter'));
  assert.equal(currentPath(page), '/staff');
  await checkA11y(page, 'staff start page');
});

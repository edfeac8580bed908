// Citizens' self-registration: the form and its error state pass axe-core, and the whole
// form can be filled and sent with the keyboard only.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, checkA11y } from '../lib/server.mjs';
import { visit, currentPath, andWait, checkStructure, heading } from '../lib/flows.mjs';

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

/** Describes the focused element. */
function focused() {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName.toLowerCase(),
      name: el?.getAttribute('name'),
      type: el?.getAttribute('type'),
      text: el?.textContent?.trim(),
      inMain: !!el?.closest('main'),
    };
  });
}

/** Presses Tab until an element matching `pred` has the focus (inside <main>). */
async function tabTo(pred, what) {
  for (let i = 0; i < 30; i += 1) {
    await page.keyboard.press('Tab');
    const el = await focused();
    if (pred(el)) return el;
  }
  assert.fail(`Tab never reached ${what}`);
}

test('start page and login page link to the registration', async () => {
  await visit(page, server, '/');
  await page.getByRole('link', { name: 'Konto anlegen' }).first().waitFor();
  await visit(page, server, '/login');
  await andWait(page, () => page.getByRole('link', { name: 'Konto anlegen' }).click());
  assert.equal(currentPath(page), '/registrieren');
});

test('registration page passes axe', async () => {
  const response = await visit(page, server, '/registrieren');
  assert.equal(response.status(), 200);
  await checkStructure(page, 'registration page');
  assert.equal(await heading(page), 'Konto anlegen');
  await page.getByLabel('Name', { exact: true }).waitFor();
  await page.getByLabel('E-Mail-Adresse', { exact: true }).waitFor();
  await page.getByLabel('Passwort', { exact: true }).waitFor();
  await page.getByRole('checkbox').waitFor();
  await page.getByRole('link', { name: 'Datenschutzhinweise' }).waitFor();
  await checkA11y(page, 'registration page');
});

test('errors beside the fields pass axe and keep what was typed', async () => {
  await visit(page, server, '/registrieren');
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByLabel('E-Mail-Adresse', { exact: true }).fill('keine-adresse');
  await page.getByLabel('Passwort', { exact: true }).fill('passwort1');
  const response = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/registrieren') && r.request().method() === 'POST'),
    andWait(page, () => page.getByRole('button', { name: 'Konto anlegen' }).click()),
  ]).then(([r]) => r);
  assert.equal(response.status(), 422);
  await checkStructure(page, 'registration errors');
  assert.match(await page.getByRole('alert').first().innerText(), /markierten Felder/);
  const email = page.getByLabel('E-Mail-Adresse', { exact: true });
  assert.equal(await email.inputValue(), 'keine-adresse');
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Passwort', { exact: true }).inputValue(), '', 'the password is not sent back');
  for (const id of ['f-name-error', 'f-email-error', 'f-password-error', 'f-consent-error']) {
    assert.equal(await page.locator(`#${id}`).count(), 1, `message ${id}`);
  }
  assert.match(await page.locator('#f-consent-error').innerText(), /Datenschutzhinweise/);
  await checkA11y(page, 'registration page with errors');
});

test('registration with the keyboard only', async () => {
  await visit(page, server, '/registrieren');
  // The skip link first, then into <main>.
  await page.keyboard.press('Tab');
  assert.equal((await focused()).tag, 'a', 'first Tab focuses the skip link');
  await page.keyboard.press('Enter');

  let el = await tabTo((e) => e.name === 'name', 'the name field');
  assert.ok(el.inMain);
  await page.keyboard.type('Karla Tastatur');
  await page.keyboard.press('Tab');
  assert.equal((await focused()).name, 'email');
  await page.keyboard.type('karla.tastatur@example.org');
  await page.keyboard.press('Tab');
  assert.equal((await focused()).name, 'password');
  await page.keyboard.type('lindenblüten am marktbrunnen');
  el = await tabTo((e) => e.name === 'consent', 'the consent checkbox');
  await page.keyboard.press('Space');
  assert.equal(await page.getByRole('checkbox').isChecked(), true, 'Space ticks the checkbox');
  // On to the link to the privacy notice and then the submit button.
  el = await tabTo((e) => e.tag === 'button' && e.text === 'Konto anlegen', 'the submit button');
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.equal(currentPath(page), '/registrieren');
  assert.equal(await heading(page), 'Bitte prüfen Sie Ihr E-Mail-Postfach');
  await checkA11y(page, 'check-your-mail page');
});

test('an unknown confirmation link shows a clear message', async () => {
  const response = await visit(page, server, '/registrieren/bestaetigen/gibt-es-nicht');
  assert.equal(response.status(), 404);
  assert.equal(await heading(page), 'Bestätigung nicht möglich');
  await checkA11y(page, 'unknown confirmation link');
});

test('the demo citizen can sign in and sees no administration', async () => {
  await visit(page, server, '/login');
  await page.getByLabel('E-Mail-Adresse', { exact: true }).fill('buergerin@beispielstadt.example');
  await page.getByLabel('Passwort', { exact: true }).fill(server.password);
  await andWait(page, () => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
  assert.equal(currentPath(page), '/staff');
  assert.match(await page.locator('main').innerText(), /Willkommen in Ihrem Bürgerkonto/);
  assert.equal(await page.locator('a[href^="/admin"]').count(), 0, 'no administration links');
  await checkA11y(page, 'citizen overview');
});

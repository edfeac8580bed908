// Small helpers shared by the browser tests: navigation, login/logout and
// the structure every page must have.

import assert from 'node:assert/strict';

/** Navigates to a path below the server's base URL; returns the response. */
export function visit(page, server, pathname) {
  return page.goto(new URL(pathname, server.url).href, { waitUntil: 'load' });
}

/** Current path of the page, without query or fragment. */
export function currentPath(page) {
  return new URL(page.url()).pathname;
}

/** Waits until the page is on one of the given paths. */
export async function waitForPath(page, ...paths) {
  await page.waitForURL((url) => paths.includes(url.pathname));
}

/** Runs an action that submits a form or follows a link; waits for the new page to load. */
export async function andWait(page, action) {
  const loaded = page.waitForEvent('load');
  await action();
  await loaded;
}

/** Fills and submits the login form; does not check the outcome. */
export async function submitLogin(page, server, email, password) {
  await visit(page, server, '/login');
  await page.getByLabel('E-Mail-Adresse', { exact: true }).fill(email);
  await page.getByLabel('Passwort', { exact: true }).fill(password);
  await andWait(page, () => page.getByRole('button', { name: 'Anmelden', exact: true }).click());
}

/** Logs in and asserts that the staff start page is reached. */
export async function login(page, server, email = server.email, password = server.password) {
  await submitLogin(page, server, email, password);
  assert.equal(currentPath(page), '/staff', `login as ${email} should land on /staff`);
}

/** Logs out with the "Abmelden" button (a form POST). */
export async function logout(page) {
  await andWait(page, () => page.getByRole('button', { name: 'Abmelden', exact: true }).click());
}

/** Every page: <html lang="de">, exactly one h1, and a <main id="main">. */
export async function checkStructure(page, label) {
  const lang = await page.locator('html').getAttribute('lang');
  assert.equal(lang, 'de', `${label}: <html lang>`);
  assert.equal(await page.locator('h1').count(), 1, `${label}: exactly one h1`);
  assert.equal(await page.locator('main#main').count(), 1, `${label}: one <main id="main">`);
}

/** Text of the page's only h1. */
export function heading(page) {
  return page.getByRole('heading', { level: 1 }).innerText();
}

/** Describes document.activeElement, for keyboard tests. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body' };
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      name: el.getAttribute('name'),
      type: el.getAttribute('type'),
      href: el.getAttribute('href'),
      text: (el.innerText || el.value || '').trim(),
      inMain: el.closest('main') !== null,
    };
  });
}

// Helpers for the booking browser tests: dates in Europe/Berlin, keyboard navigation,
// a second signed-in browser context, and fetching a calendar feed.

import assert from 'node:assert/strict';
import { visit, andWait, focused, currentPath } from './flows.mjs';

/** The demo citizen; in the demo she is the member of the club and shares the admin password. */
export const CITIZEN = 'buergerin@beispielstadt.example';
export const CLUB = 'TV Beispielstadt 1890 e.V.';

const berlinParts = (d) => Object.fromEntries(
  new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short',
  }).formatToParts(d).map((p) => [p.type, p.value]),
);

/** A day `days` ahead in Europe/Berlin as { iso: 'YYYY-MM-DD', dd, mm, yyyy, weekday: 'Tue', de: 'DD.MM.YYYY' }. */
export function dayAhead(days) {
  const p = berlinParts(new Date(Date.now() + days * 86_400_000));
  return {
    iso: `${p.year}-${p.month}-${p.day}`,
    dd: p.day,
    mm: p.month,
    yyyy: p.year,
    weekday: p.weekday,
    de: `${p.day}.${p.month}.${p.year}`,
  };
}

/** ISO week 'YYYY-Www' of an ISO date (the `woche` parameter of the week pages). */
export function isoWeek(iso) {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) + 3); // Thursday of the week
  const year = d.getUTCFullYear();
  const week = 1 + Math.floor((d - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The first day at least `minDays` ahead that falls on `weekday` ('Mon', 'Tue', …). */
export function nextWeekday(weekday, minDays) {
  for (let n = minDays; n < minDays + 7; n++) {
    const d = dayAhead(n);
    if (d.weekday === weekday) return { ...d, offset: n };
  }
  throw new Error(`no ${weekday} within a week`);
}

/** Presses Tab until `matches(focusedElement)` holds; asserts that it does within `limit` presses. */
export async function tabUntil(page, matches, what, limit = 80) {
  let el = await focused(page);
  for (let i = 0; i < limit && !matches(el); i++) {
    await page.keyboard.press('Tab');
    el = await focused(page);
  }
  assert.ok(matches(el), `Tab reaches ${what}; focus is on ${JSON.stringify(el)}`);
  return el;
}

/** Tab to the form field named `name`. */
export const tabToField = (page, name) => tabUntil(page, (el) => el.name === name, `the field ${name}`);

/** Tab to the link or button whose visible text is exactly `text`. */
export const tabToText = (page, text) => tabUntil(page, (el) => el.text === text, `“${text}”`);

const dayFirst = new WeakMap();

/**
 * Whether the browser's date fields ask for the day before the month. Chromium takes the
 * order from its UI language (Debian's package may only have en-US: month first), not from
 * the context's locale; a probe field on a blank page tells.
 */
async function isDayFirst(context) {
  if (!dayFirst.has(context)) {
    const probe = await context.newPage();
    await probe.setContent('<input id="d" type="date">');
    await probe.focus('#d');
    await probe.keyboard.type('01022003');
    const v = await probe.inputValue('#d');
    await probe.close();
    assert.ok(v === '2003-02-01' || v === '2003-01-02', `date field probe gave ${v}`);
    dayFirst.set(context, v === '2003-02-01');
  }
  return dayFirst.get(context);
}

/**
 * Types a date into the focused <input type=date>, the parts in the order the browser asks
 * for them, and checks the field's value.
 */
export async function typeDate(page, day) {
  const digits = (await isDayFirst(page.context())) ? `${day.dd}${day.mm}${day.yyyy}` : `${day.mm}${day.dd}${day.yyyy}`;
  await page.keyboard.type(digits);
  const value = await page.evaluate(() => document.activeElement.value);
  assert.equal(value, day.iso, `typed ${day.de} into the date field`);
}

const twelveHour = new WeakMap();

/** Whether the browser's time fields have an AM/PM part (again from Chromium's UI language). */
async function isTwelveHour(context) {
  if (!twelveHour.has(context)) {
    const probe = await context.newPage();
    await probe.setContent('<input id="t" type="time">');
    await probe.focus('#t');
    await probe.keyboard.type('0930');
    // With an AM/PM part the focus is on it now; "P" makes 09:30 into 21:30.
    await probe.keyboard.type('P');
    const v = await probe.inputValue('#t');
    await probe.close();
    assert.ok(v === '21:30' || v === '09:30', `time field probe gave ${v}`);
    twelveHour.set(context, v === '21:30');
  }
  return twelveHour.get(context);
}

/** Types a time 'HH:MM' (24 h) into the focused <input type=time> and checks the value. */
export async function typeTime(page, hhmm) {
  const [h, m] = hhmm.split(':').map(Number);
  const pad = (n) => String(n).padStart(2, '0');
  if (await isTwelveHour(page.context())) {
    await page.keyboard.type(`${pad(h % 12 === 0 ? 12 : h % 12)}${pad(m)}${h < 12 ? 'A' : 'P'}`);
  } else {
    await page.keyboard.type(`${pad(h)}${pad(m)}`);
  }
  const value = await page.evaluate(() => document.activeElement.value);
  assert.equal(value, hhmm, `typed ${hhmm} into the time field`);
}

/** Signs in with the keyboard only (Tab, type, Enter) and asserts that /staff is reached. */
export async function keyboardLogin(page, server, email, password) {
  await visit(page, server, '/login');
  await tabToField(page, 'email');
  await page.keyboard.type(email);
  await tabToField(page, 'password');
  await page.keyboard.type(password);
  await andWait(page, () => page.keyboard.press('Enter'));
  assert.equal(currentPath(page), '/staff', `keyboard login as ${email} lands on /staff`);
}

/** A second, independent browser context (its own cookies) with the same settings. */
export async function newPage(browser) {
  const context = await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  context.setDefaultTimeout(20_000);
  return context.newPage();
}

/** GETs a URL with the page's request context (its cookies); returns { status, type, body }. */
export async function fetchText(page, url) {
  const res = await page.request.get(url);
  return { status: res.status(), type: res.headers()['content-type'] ?? '', body: await res.text() };
}

/** The VEVENT blocks of an iCalendar text (unfolded). */
export function vevents(ics) {
  const text = ics.replace(/\r?\n[ \t]/g, '');
  return [...text.matchAll(/BEGIN:VEVENT\r?\n([\s\S]*?)END:VEVENT/g)].map((m) => m[1]);
}

/**
 * Tabs through the whole page from the top and asserts that every visible focusable element
 * gets the focus once in a round and that the focus leaves the page's end (no keyboard trap).
 */
export async function assertNoKeyboardTrap(page, label) {
  const marked = await page.evaluate(() => {
    const sel = 'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
    let n = 0;
    for (const el of document.querySelectorAll(sel)) {
      // checkVisibility() also hides the content of a closed <details>.
      const visible = el.checkVisibility({ visibilityProperty: true }) && el.closest('details:not([open]) > :not(summary)') === null;
      // Only the checked radio of a group is a Tab stop.
      const radioSkipped = el.type === 'radio' && !el.checked
        && [...document.getElementsByName(el.name)].some((o) => o.checked);
      if (visible && !radioSkipped) el.dataset.tabProbe = String(n++);
    }
    document.activeElement?.blur();
    window.scrollTo(0, 0);
    return n;
  });
  const seen = new Set();
  let rounds = 0;
  for (let i = 0; i < marked * 3 + 20; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.closest('[data-tab-probe]')?.dataset.tabProbe ?? null);
    if (id === null) { if (seen.size > 0) { rounds++; break; } continue; }
    seen.add(id);
  }
  const missing = await page.evaluate((seenIds) => [...document.querySelectorAll('[data-tab-probe]')]
    .filter((el) => !seenIds.includes(el.dataset.tabProbe))
    .map((el) => el.outerHTML.slice(0, 120)), [...seen]);
  assert.deepEqual(missing, [], `${label}: elements Tab never reaches`);
  assert.equal(rounds, 1, `${label}: Tab leaves the page after the last element (no trap)`);
}

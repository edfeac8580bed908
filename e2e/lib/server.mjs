// Test harness: starts the rathaus binary for one test file, launches Debian's
// Chromium through playwright-core, and runs axe-core accessibility checks.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/** Path of the binary under test: $RATHAUS_BIN (relative paths count from the repo root). */
export function binaryPath() {
  return path.resolve(repoRoot, process.env.RATHAUS_BIN || 'target/debug/rathaus');
}

/**
 * Starts `rathaus serve --demo` on a free port with a fresh data directory.
 * The E-Akte's consume folder is `consumeDir` in the data directory.
 * Resolves to { url, email, password, dataDir, consumeDir, stop() } once the three
 * start-up lines (URL:, E-Mail:, Passwort:) were printed on stdout.
 */
export async function startServer() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rathaus-e2e-'));
  const consumeDir = path.join(dataDir, 'scan');
  const child = spawn(binaryPath(), ['serve', '--demo'], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      RATHAUS_DATA_DIR: dataDir,
      RATHAUS_RECORDS_CONSUME_DIR: consumeDir,
      RATHAUS_LISTEN: '127.0.0.1:0',
      RATHAUS_LOG: 'warn',
    },
  });

  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  let exitInfo = null;
  exited.then((info) => { exitInfo = info; });

  // Keep the last lines of output for error messages; pass stderr through.
  const tail = [];
  const remember = (line) => { tail.push(line); if (tail.length > 40) tail.shift(); };
  createInterface({ input: child.stderr }).on('line', (line) => {
    remember(line);
    process.stderr.write(`[rathaus] ${line}\n`);
  });

  const stop = async () => {
    if (exitInfo === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const found = {};
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      remember(line);
      const m = /^(URL|E-Mail|Passwort):\s*(\S+)\s*$/.exec(line);
      if (m) found[m[1]] = m[2];
      if (found.URL && found['E-Mail'] && found.Passwort) resolve();
    });
    exited.then(({ code, signal, error }) =>
      reject(error ?? new Error(`rathaus exited early (code ${code}, signal ${signal})`)));
  });

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`rathaus did not print URL/E-Mail/Passwort within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (err) {
    await stop();
    err.message += `\nbinary: ${binaryPath()}\nlast output:\n${tail.join('\n')}`;
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const url = found.URL.endsWith('/') ? found.URL : `${found.URL}/`;
  return { url, email: found['E-Mail'], password: found.Passwort, dataDir, consumeDir, stop };
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Debian's Chromium (never a downloaded browser). Playwright gives each
 * launch a fresh temporary user-data-dir. Returns { browser, context, page }.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.RATHAUS_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const context = await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { browser, context, page };
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the page and asserts zero violations. */
export async function checkA11y(page, label) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const { violations } = results;
  if (violations.length > 0) {
    const lines = [`axe: ${violations.length} violation(s) on ${label} (${page.url()})`];
    for (const v of violations) {
      lines.push(`- ${v.id} [${v.impact}]: ${v.help}`);
      for (const node of v.nodes) lines.push(`    ${node.target.join(' ')}`);
    }
    const message = lines.join('\n');
    console.error(message);
    assert.fail(message);
  }
}

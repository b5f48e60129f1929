/**
 * A real Chromium for the playground tests: Debian's `chromium` driven by playwright-core (no
 * browser download), headless, with a fake microphone that plays a WAV file. Every launch gets a
 * fresh profile (playwright's temporary user-data-dir), removed when the browser closes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The browser binary: Debian's package, or PARLEY_CHROMIUM. */
export const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here (one line naming the package), or undefined when they can. */
export function browserSkipReason(): string | undefined {
  return fs.existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH}: install the Debian package 'chromium' to run the browser tests`;
}

/** Where failure screenshots go (ignored by git). */
export const SCREENSHOT_DIR = path.join(ROOT, 'test', '.tmp', 'screenshots');

/**
 * Launches Chromium. `fakeMicrophone` is a WAV file the fake capture device plays once from the
 * moment a page opens the microphone, then silence (Chromium's `%noloop` suffix), so one
 * recording holds exactly the file's words.
 */
export async function launchChromium(options: { fakeMicrophone: string }): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${options.fakeMicrophone}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Newest modification time of the files under `dir` (0 when empty or missing). */
function newest(dir: string): number {
  let latest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Builds the playground (`npm run build:web`) unless web/dist is newer than its sources. */
export function ensureWebBuild(): void {
  const built = path.join(ROOT, 'web', 'dist', 'index.html');
  const builtAt = fs.existsSync(built) ? fs.statSync(built).mtimeMs : 0;
  const sources = Math.max(
    newest(path.join(ROOT, 'web', 'src')),
    ...['index.html', 'vite.config.ts'].map((f) => fs.statSync(path.join(ROOT, 'web', f)).mtimeMs),
  );
  if (builtAt > sources) return;
  const result = spawnSync('npm', ['run', 'build:web'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build:web failed:\n${result.stdout}\n${result.stderr}`);
}

/** Runs `body` with a fresh page; on failure a full-page screenshot is saved under test/.tmp/screenshots. */
export async function withPage(
  browser: Browser,
  name: string,
  body: (page: Page, context: BrowserContext) => Promise<void>,
  viewport = { width: 1100, height: 800 },
): Promise<void> {
  const context = await browser.newContext({ acceptDownloads: true, viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  try {
    await body(page, context);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  } catch (error) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    if (error instanceof Error) error.message += `\n(screenshot: ${path.relative(ROOT, file)}${problems.length > 0 ? `; ${problems.join('; ')}` : ''})`;
    throw error;
  } finally {
    await context.close();
  }
}

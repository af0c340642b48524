import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); the tests that need it skip with this reason where it is missing. */
export const CHROMIUM = process.env.MESHCTL_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium); browser checks skipped`;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile, nothing in the background that could reach the network. */
export async function openBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshctl-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
    timeout: 120_000,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Counts pixels that are not (near) white in a PNG, by drawing it on a canvas in a blank page. */
export async function inkedPixels(b: Browser, png: Buffer): Promise<{ inked: number; total: number }> {
  const page = await b.context.newPage();
  try {
    await page.setContent('<!DOCTYPE html><canvas id="c"></canvas>');
    // a string: this file compiles without the DOM's types
    return (await page.evaluate(`(async (data) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + data;
      await img.decode();
      const c = document.getElementById('c');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235) inked++;
      return { inked, total: px.length / 4 };
    })(${JSON.stringify(png.toString('base64'))})`)) as { inked: number; total: number };
  } finally {
    await page.close();
  }
}

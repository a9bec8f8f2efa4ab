import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { analyzeImage } from '../../src/analyze/analyze.js';
import { renderAnalyzeHtml } from '../../src/report/html/analyze-html.js';
import { haveTool } from '../support/tools.js';
import { dir, file, image, whiteout } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const enabled = haveTool(CHROMIUM, 'chromium');

describe.runIf(enabled)('HTML report in headless Chromium', () => {
  let browser: BrowserContext;
  let work: string;
  let htmlFile: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'lw-html-'));
    const img = image([
      { step: 'ADD rootfs.tar /', entries: [dir('bin'), file('bin/busybox', 90_000), file('etc/passwd', 400), dir('usr/lib'), file('usr/lib/libc.so', 60_000)] },
      { step: '/bin/sh -c apt-get update && apt-get install -y curl', entries: [file('var/lib/apt/lists/main_Packages', 42_000), file('usr/bin/curl', 30_000), file('tmp/build.o', 25_000)] },
      { step: '/bin/sh -c rm /tmp/build.o && cp /usr/bin/curl /opt/curl', entries: [whiteout('tmp/build.o'), file('opt/curl', 30_000, 'usr/bin/curl')] },
      { step: 'COPY . /app # buildkit', entries: [file('app/server.js', 12_000), file('app/.git/objects/pack/p.pack', 18_000), ...Array.from({ length: 40 }, (_, i) => file(`app/lib/m${i}.js`, 500 + i))] },
    ]);
    const analysis = await analyzeImage(img);
    htmlFile = path.join(work, 'report.html');
    writeFileSync(htmlFile, renderAnalyzeHtml(analysis));
    // A fresh profile per run (playwright passes it to Chromium as --user-data-dir).
    browser = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('renders the chart, the treemap and the findings without console errors or requests, and a layer click filters', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith('file://')) requests.push(r.url());
    });
    await page.goto('file://' + htmlFile);

    // The per-layer chart: one bar per layer, each drawn with a real size.
    const bars = page.locator('#layer-chart rect.bar');
    expect(await bars.count()).toBe(4);
    for (const b of await bars.all()) {
      const box = await b.boundingBox();
      expect(box!.width).toBeGreaterThan(1);
      expect(box!.height).toBeGreaterThan(1);
    }
    const map = await page.locator('#treemap').boundingBox();
    expect(map!.width).toBeGreaterThan(300);
    expect(map!.height).toBeGreaterThan(300);

    // The treemap: cells for the files, coloured by layer, covering the layers that left files.
    const cells = page.locator('#treemap rect.cell');
    expect(await cells.count()).toBeGreaterThan(10);
    const layersShown = new Set(await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-layer'))));
    expect(layersShown).toEqual(new Set(['0', '1', '2', '3']));
    const big = page.locator('#treemap rect.cell[data-path="/bin/busybox"]');
    const bigBox = await big.boundingBox();
    expect(bigBox!.width * bigBox!.height).toBeGreaterThan(1000);
    const allFindings = await page.locator('#finding-list li').count();
    expect(allFindings).toBeGreaterThanOrEqual(4);

    // Click layer 1: only what layer 1 wrote stays in the treemap; findings narrow to layer 1.
    await bars.nth(1).click();
    const filtered = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-layer')));
    expect(filtered.length).toBeGreaterThan(0);
    expect(new Set(filtered)).toEqual(new Set(['1']));
    expect(await page.locator('#treemap rect.cell[data-path="/var/lib/apt/lists/main_Packages"]').count()).toBe(1);
    expect(await page.locator('#treemap rect.cell[data-path="/bin/busybox"]').count()).toBe(0);
    const li = page.locator('#finding-list li');
    const n1 = await li.count();
    expect(n1).toBeGreaterThan(0);
    expect(n1).toBeLessThan(allFindings);
    const rules = await li.evaluateAll((els) => els.map((e) => e.getAttribute('data-rule')));
    expect(rules).toContain('junk.apt-lists');
    expect(rules).not.toContain('junk.vcs');
    expect(await page.locator('#layer-chart rect.bar.selected').getAttribute('data-layer')).toBe('1');
    // The layer's own changes are listed, largest first.
    const added = await page.locator('#layer-detail .changes.added li').allTextContents();
    expect(added).toEqual(['/var/lib/apt/lists/main_Packages  42.0 KB', '/usr/bin/curl  30.0 KB', '/tmp/build.o  25.0 KB']);

    // Zoom: clicking a folder shows its contents; the breadcrumb leads back.
    await page.locator('#filter-note button').click();
    expect(await page.locator('#layer-detail li').count()).toBe(0);
    await page.locator('#treemap rect.cell.dir[data-path="/app"]').click({ position: { x: 5, y: 5 } });
    expect(await page.locator('#crumbs a').count()).toBe(2);
    const inApp = await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-path')!));
    expect(inApp.length).toBeGreaterThan(0);
    expect(inApp.every((p) => p.startsWith('/app/'))).toBe(true);
    await page.locator('#crumbs a').first().click();
    expect(await page.locator('#treemap rect.cell[data-path="/bin/busybox"]').count()).toBe(1);

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});

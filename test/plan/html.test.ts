import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { runPlan } from '../../src/plan/report.js';
import { planHtml } from '../../src/plan/format/html.js';
import { haveTool } from '../support/tools.js';

const CHROMIUM = '/usr/bin/chromium';
const enabled = haveTool(CHROMIUM, 'chromium');
const CORPUS = path.join(import.meta.dirname, 'corpus');

const FLEET = readFileSync(path.join(import.meta.dirname, 'fleet.example.yaml'), 'utf8');

describe.runIf(enabled)('plan HTML report in headless Chromium', () => {
  let browser: BrowserContext;
  let work: string;
  let htmlFile: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'lw-plan-html-'));
    const report = await runPlan({ dockerfiles: [CORPUS], images: [], fleet: { text: FLEET, file: 'fleet.yaml' } });
    htmlFile = path.join(work, 'plan.html');
    writeFileSync(htmlFile, planHtml(report));
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

  it('draws the tree as a graph with sizes, without requests or errors', async () => {
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

    // 3 FROM images, 4 bases, 8 stages (frontend's two stages hang from different nodes).
    const nodes = page.locator('#tree g.node');
    expect(await nodes.count()).toBe(15);
    expect(await page.locator('#tree g.node.image').count()).toBe(3);
    expect(await page.locator('#tree g.node.base').count()).toBe(4);
    expect(await page.locator('#tree g.node.stage').count()).toBe(8);
    expect(await page.locator('#tree path.edge').count()).toBe(15 - 3);

    // Every node is drawn, none overlaps another.
    const boxes = [];
    for (const n of await nodes.all()) {
      const b = (await n.locator('rect').boundingBox())!;
      expect(b.width).toBeGreaterThan(200);
      expect(b.height).toBeGreaterThan(40);
      boxes.push(b);
    }
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap, `nodes ${i} and ${j} overlap`).toBe(false);
      }
    }
    // A child is drawn right of its parent: base-2 right of base-1, api right of base-2.
    const box = async (id: string) => (await page.locator(`#tree g.node[data-id="${id}"] rect`).boundingBox())!;
    expect((await box('base:2')).x).toBeGreaterThan((await box('base:1')).x);
    expect((await box('stage:api#0')).x).toBeGreaterThan((await box('base:2')).x);

    // Sizes from the fleet file: what each base adds over its parent, marked as estimates.
    const size = async (id: string) => page.locator(`#tree g.node[data-id="${id}"]`).getAttribute('data-size');
    expect(await size('base:1')).toBe(String(30e6)); // RUN apt-get
    expect(await size('base:2')).toBe(String(1e3 + 120e6)); // COPY requirements.txt + pip install
    expect(await size('base:3')).toBe(String(250e6)); // COPY models/
    expect(await size('image:docker.io/library/python:3.12-slim')).toBe(String(45e6));
    expect(await page.locator('#tree g.node[data-id="base:3"] text.detail').textContent()).toContain('~250 MB');
    expect(await page.locator('#tree g.node[data-id="base:1"] title').textContent()).toContain('api, billing, inference, scorer, worker');

    // The savings table and the generated Dockerfiles are there.
    expect(await page.locator('#savings tbody tr').count()).toBe(4);
    expect(await page.locator('details.base-dockerfile').count()).toBe(4);
    expect(await page.locator('details.service-dockerfile').count()).toBe(7);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});

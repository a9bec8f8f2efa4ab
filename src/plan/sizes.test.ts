import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { Digest } from '../model/digest.js';
import type { HistoryEntry } from '../model/config.js';
import type { ImageSummary } from './images.js';
import { historyKeyword, measureStage } from './sizes.js';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}` as Digest;

function image(history: HistoryEntry[]): ImageSummary {
  const layers = history.filter((h) => !h.empty_layer).map((_, i) => ({ index: i, diffId: d(i), chainId: d(100 + i), size: 1000 * (i + 1), tarSize: 1000 * (i + 1), step: '' }));
  return { reference: 'img', layers, history, size: layers.reduce((a, l) => a + l.size, 0) };
}

const DOCKERFILE = 'ARG V=1\nFROM python:3.12-slim\nARG V\nENV A=1\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCMD ["python"]\n';

describe('measureStage', () => {
  it('pairs classic-builder history with the instructions, after the FROM image\'s layers', () => {
    const img = image([
      { created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
      { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
      { created_by: '/bin/sh -c apt-get install -y python3' },
      { created_by: '/bin/sh -c #(nop)  ARG V', empty_layer: true },
      { created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
      { created_by: '/bin/sh -c #(nop) WORKDIR /app' },
      { created_by: '/bin/sh -c #(nop) COPY file:def in . ' },
      { created_by: '|1 V=1 /bin/sh -c pip install -r requirements.txt' },
      { created_by: '/bin/sh -c #(nop)  CMD ["python"]', empty_layer: true },
    ]);
    const df = parseDockerfile(DOCKERFILE);
    const m = measureStage(df, img, 'svc');
    expect(m.problem).toBeUndefined();
    expect(m.base).toEqual({ layers: 2, size: 1000 + 2000, chainId: d(101) });
    const byKeyword = Object.fromEntries([...m.steps].map(([i, l]) => [df.instructions[i]!.keyword, l && l.size]));
    expect(byKeyword).toEqual({ ARG: null, ENV: null, WORKDIR: 3000, COPY: 4000, RUN: 5000, CMD: null });
  });

  it('pairs BuildKit history, which has no ARG entries', () => {
    const img = image([
      { created_by: 'ADD rootfs.tar.xz / # buildkit' },
      { created_by: 'ENV A=1', empty_layer: true },
      { created_by: 'WORKDIR /app' },
      { created_by: 'COPY requirements.txt . # buildkit' },
      { created_by: 'RUN /bin/sh -c pip install -r requirements.txt # buildkit' },
      { created_by: 'CMD ["python"]', empty_layer: true },
    ]);
    const m = measureStage(parseDockerfile(DOCKERFILE), img, 'svc');
    expect(m.problem).toBeUndefined();
    expect(m.base.layers).toBe(1);
    expect([...m.steps.values()].filter((l) => l).map((l) => l!.index)).toEqual([3, 2, 1]);
  });

  it('reports an image that does not match instead of guessing', () => {
    const other = image([{ created_by: '/bin/sh -c #(nop) ADD file:abc in / ' }, { created_by: '/bin/sh -c #(nop)  ENTRYPOINT ["x"]', empty_layer: true }]);
    expect(measureStage(parseDockerfile(DOCKERFILE), other, 'svc').problem).toMatch(/does not match the image's history/);
    const squashed = { ...image([{ created_by: 'x' }]), layers: [] };
    expect(measureStage(parseDockerfile(DOCKERFILE), squashed, 'svc').problem).toMatch(/history lists 1 layers but it has 0/);
  });

  it('reads the keyword of both builders\' history entries', () => {
    expect(historyKeyword({ created_by: '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"]}' })).toBe('HEALTHCHECK');
    expect(historyKeyword({ created_by: '|2 A=1 B=2 /bin/sh -c make' })).toBe('RUN');
    expect(historyKeyword({ created_by: 'USER nobody' })).toBe('USER');
    expect(historyKeyword({ created_by: 'something else' })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import type { Step } from './model.js';
import { sharedPrefixes, type PrefixPath } from './prefix-tree.js';

/** A path from a compact spelling: "FROM a", then "R:x" for a layer step x, "M:x" for a metadata step x. */
function path(service: string, ...steps: string[]): PrefixPath {
  const mk = (s: string): Step => {
    const layer = s.startsWith('R:');
    return { keyword: s.startsWith('FROM') ? 'FROM' : layer ? 'RUN' : 'ENV', key: s, text: s, comments: [], layer, category: 'run', tools: [], origin: undefined, contextSources: undefined };
  };
  return { service, stage: 0, steps: steps.map(mk) };
}
const summary = (t: ReturnType<typeof sharedPrefixes>) => t.prefixes.map((p) => ({ parent: p.parent, depth: p.depth, services: p.services, direct: p.direct }));
const opts = { minSteps: 1, minServices: 2 };

describe('sharedPrefixes', () => {
  it('makes the longest shared prefix a base, ending on its last layer step', () => {
    const t = sharedPrefixes([path('a', 'FROM x', 'R:1', 'R:2', 'M:e', 'R:a'), path('b', 'FROM x', 'R:1', 'R:2', 'M:e', 'R:b')], opts);
    // M:e is shared too, but a base ends on a layer: it stays in the services.
    expect(summary(t)).toEqual([{ parent: undefined, depth: 2, services: ['a', 'b'], direct: [0, 1] }]);
    expect(t.deepest).toEqual([0, 0]);
  });

  it('nests bases where the services branch', () => {
    const t = sharedPrefixes(
      [path('a', 'FROM x', 'R:os', 'R:deps', 'R:a'), path('b', 'FROM x', 'R:os', 'R:deps', 'R:b'), path('c', 'FROM x', 'R:os', 'R:c'), path('d', 'FROM y', 'R:os', 'R:d')],
      opts,
    );
    expect(summary(t)).toEqual([
      { parent: undefined, depth: 1, services: ['a', 'b', 'c'], direct: [2] },
      { parent: 0, depth: 2, services: ['a', 'b'], direct: [0, 1] },
    ]);
    // d starts from another image: the same step there is another layer.
    expect(t.deepest).toEqual([1, 1, 0, undefined]);
  });

  it('folds a base that only one thing would build on', () => {
    // a and b share os+deps; c shares os only but is a second stage of a: still one service for os.
    const t = sharedPrefixes([path('a', 'FROM x', 'R:os', 'R:deps', 'R:a'), path('b', 'FROM x', 'R:os', 'R:deps', 'R:b')], opts);
    expect(summary(t)).toEqual([{ parent: undefined, depth: 2, services: ['a', 'b'], direct: [0, 1] }]);
  });

  it('counts services, not stages', () => {
    const a2 = { ...path('a', 'FROM x', 'R:os', 'R:two'), stage: 1 };
    expect(sharedPrefixes([path('a', 'FROM x', 'R:os', 'R:one'), a2], opts).prefixes).toEqual([]);
    // With another service, both stages of a build on the base.
    const t = sharedPrefixes([path('a', 'FROM x', 'R:os', 'R:one'), a2, path('b', 'FROM x', 'R:os', 'R:b')], opts);
    expect(summary(t)).toEqual([{ parent: undefined, depth: 1, services: ['a', 'b'], direct: [0, 1, 2] }]);
  });

  it('needs minSteps layer steps over the parent and minServices services', () => {
    const paths = [path('a', 'FROM x', 'R:os', 'M:e', 'R:deps', 'R:a'), path('b', 'FROM x', 'R:os', 'M:e', 'R:deps', 'R:b'), path('c', 'FROM x', 'R:os', 'R:c')];
    expect(summary(sharedPrefixes(paths, opts)).map((p) => p.depth)).toEqual([1, 3]);
    // base-1 adds 1 layer step: not enough for 2; then base-2 adds 2 over the FROM and is kept.
    expect(summary(sharedPrefixes(paths, { minSteps: 2, minServices: 2 }))).toEqual([{ parent: undefined, depth: 3, services: ['a', 'b'], direct: [0, 1] }]);
    expect(summary(sharedPrefixes(paths, { minSteps: 1, minServices: 3 }))).toEqual([{ parent: undefined, depth: 1, services: ['a', 'b', 'c'], direct: [0, 1, 2] }]);
  });

  it('makes no base from metadata alone or from the FROM alone', () => {
    expect(sharedPrefixes([path('a', 'FROM x', 'M:e', 'R:a'), path('b', 'FROM x', 'M:e', 'R:b')], opts).prefixes).toEqual([]);
    expect(sharedPrefixes([path('a', 'FROM x', 'R:a'), path('b', 'FROM x', 'R:b')], opts).prefixes).toEqual([]);
  });

  it('lets a service end exactly where the base ends', () => {
    const t = sharedPrefixes([path('a', 'FROM x', 'R:os', 'R:deps'), path('b', 'FROM x', 'R:os', 'R:deps', 'R:b')], opts);
    expect(summary(t)).toEqual([{ parent: undefined, depth: 2, services: ['a', 'b'], direct: [0, 1] }]);
  });
});

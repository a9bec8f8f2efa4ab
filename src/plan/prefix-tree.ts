/**
 * Longest shared prefixes across Dockerfile stages. Every stage that starts FROM an image is a path
 * of step keys; the paths go into a trie. A shared prefix becomes a base image when:
 *   - it is maximal: the set of stages through it shrinks at its next step (a branch or an end);
 *   - at least `minServices` services build through it;
 *   - it ends on a layer step (trailing ENV/WORKDIR/LABEL stay with the services, so a base never
 *     carries a service's metadata and adds no layer-less image);
 *   - it adds at least `minSteps` layer steps over its parent base (or over the FROM image);
 *   - at least two things build on it directly (a child base or a stage); a base with one user is
 *     folded into that user.
 * Pure: keys in, tree out.
 */
import type { Step } from './model.js';

export interface PrefixPath {
  service: string;
  stage: number;
  /** steps[0] is the FROM. */
  steps: readonly Step[];
}

export interface SharedPrefix {
  /** Index of the parent prefix in `prefixes`; undefined when it starts at the FROM image. */
  parent: number | undefined;
  /** The first path (input order) through it: its steps are the ones emitted. */
  representative: number;
  /** The prefix is steps[0..depth] (inclusive) of every path through it. */
  depth: number;
  /** Paths (indices into the input) through it. */
  paths: number[];
  /** Services through it, in input order. */
  services: string[];
  /** Child prefixes (indices). */
  children: number[];
  /** Paths whose deepest base this is. */
  direct: number[];
}

export interface PrefixTree {
  /** Parents before children (depth-first, children in input order). */
  prefixes: SharedPrefix[];
  /** For each input path, the index of its deepest prefix, or undefined. */
  deepest: (number | undefined)[];
}

interface Node {
  key: string;
  depth: number;
  parent: Node | undefined;
  children: Map<string, Node>;
  paths: number[];
  /** Layer steps from the FROM to here. */
  layers: number;
  layer: boolean;
}

export function sharedPrefixes(paths: readonly PrefixPath[], opts: { minSteps: number; minServices: number }): PrefixTree {
  const root: Node = { key: '', depth: -1, parent: undefined, children: new Map(), paths: [], layers: 0, layer: false };
  paths.forEach((p, pi) => {
    let n = root;
    p.steps.forEach((s, d) => {
      let c = n.children.get(s.key);
      if (!c) {
        c = { key: s.key, depth: d, parent: n, children: new Map(), paths: [], layers: n.layers + (d > 0 && s.layer ? 1 : 0), layer: d > 0 && s.layer };
        n.children.set(s.key, c);
      }
      c.paths.push(pi);
      n = c;
    });
  });
  const services = (n: Node) => [...new Set(n.paths.map((p) => paths[p]!.service))];

  // Candidates: maximal prefixes with enough services, trimmed back to their last layer step.
  const order: Node[] = [];
  const visit = (n: Node) => {
    if (n !== root) order.push(n);
    for (const c of n.children.values()) visit(c);
  };
  visit(root);
  const chosen = new Set<Node>();
  for (const n of order) {
    if (n.depth < 1 || services(n).length < opts.minServices) continue;
    if ([...n.children.values()].some((c) => c.paths.length === n.paths.length)) continue;
    let t: Node | undefined = n;
    while (t && t.depth >= 1 && !t.layer) t = t.parent;
    if (t && t.depth >= 1) chosen.add(t);
  }

  const nearestChosen = (n: Node, set: Set<Node>): Node | undefined => {
    for (let a = n.parent; a; a = a.parent) if (set.has(a)) return a;
    return undefined;
  };
  const fromNode = (n: Node): Node => {
    let a = n;
    while (a.depth > 0) a = a.parent!;
    return a;
  };

  // Enough layer steps over the parent, checked parents first.
  const kept = new Set<Node>();
  for (const n of order) {
    if (!chosen.has(n)) continue;
    const parent = nearestChosen(n, kept) ?? fromNode(n);
    if (n.layers - parent.layers >= opts.minSteps) kept.add(n);
  }

  // Fold bases with fewer than two direct users into their user.
  const deepestOf = (pi: number, set: Set<Node>): Node | undefined => {
    let n = root;
    let best: Node | undefined;
    for (const s of paths[pi]!.steps) {
      n = n.children.get(s.key)!;
      if (set.has(n)) best = n;
    }
    return best;
  };
  for (;;) {
    const users = new Map<Node, number>();
    for (const n of kept) {
      const p = nearestChosen(n, kept);
      if (p) users.set(p, (users.get(p) ?? 0) + 1);
    }
    paths.forEach((_, pi) => {
      const d = deepestOf(pi, kept);
      if (d) users.set(d, (users.get(d) ?? 0) + 1);
    });
    const lonely = order.find((n) => kept.has(n) && (users.get(n) ?? 0) < 2);
    if (!lonely) break;
    kept.delete(lonely);
  }

  const list = order.filter((n) => kept.has(n));
  const index = new Map(list.map((n, i) => [n, i]));
  const prefixes: SharedPrefix[] = list.map((n) => {
    const p = nearestChosen(n, kept);
    return { parent: p ? index.get(p) : undefined, representative: n.paths[0]!, depth: n.depth, paths: [...n.paths], services: services(n), children: [], direct: [] };
  });
  prefixes.forEach((p, i) => {
    if (p.parent !== undefined) prefixes[p.parent]!.children.push(i);
  });
  const deepest = paths.map((_, pi) => {
    const d = deepestOf(pi, kept);
    return d ? index.get(d) : undefined;
  });
  deepest.forEach((d, pi) => {
    if (d !== undefined) prefixes[d]!.direct.push(pi);
  });
  return { prefixes, deepest };
}

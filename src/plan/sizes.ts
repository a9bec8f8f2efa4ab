/**
 * Real layer sizes for a Dockerfile's steps, from the image built from it. The image config's history
 * has one entry per instruction of the final stage (the classic builder writes one for every
 * instruction, ARG included; BuildKit may leave ARG out), after the entries of the FROM image. Walking
 * both lists from the end pairs each instruction with its entry, and each entry that made a layer
 * with that layer. When the two do not line up (a different Dockerfile, a squashed image) nothing is
 * guessed: the measurement reports the problem and the planner falls back to the fleet file's sizes.
 */
import type { Dockerfile } from '../dockerfile/model.js';
import { KEYWORDS } from '../dockerfile/parse.js';
import type { Digest } from '../model/digest.js';
import type { HistoryEntry } from '../model/config.js';
import type { ImageSummary } from './images.js';

export interface MeasuredLayer {
  index: number;
  size: number;
  diffId: Digest;
  chainId: Digest;
}

export interface StageMeasurement {
  service: string;
  image: string;
  /** The FROM image's layers, below the stage's own. */
  base: { layers: number; size: number; chainId: Digest | undefined };
  /** By instruction index: the layer the instruction made, or null when it made none. */
  steps: Map<number, MeasuredLayer | null>;
  /** Why the image could not be matched to the Dockerfile; steps is empty then. */
  problem: string | undefined;
}

/** The Dockerfile keyword a history entry was made by, when it can be told. */
export function historyKeyword(h: HistoryEntry): string | undefined {
  const c = (h.created_by ?? '').trim();
  const nop = /#\(nop\)\s+([A-Z]+)\b/.exec(c);
  if (nop) return nop[1];
  const word = /^([A-Z]+)\b/.exec(c)?.[1];
  if (word && (KEYWORDS as readonly string[]).includes(word)) return word; // BuildKit: "RUN /bin/sh -c ... # buildkit", "ENV A=1"
  if (/^\|\d+ /.test(c) || /^\/bin\/sh -c /.test(c)) return 'RUN';
  return undefined;
}

/** Pairs the instructions of the image's stage (the last one by default) with the image's layers. */
export function measureStage(df: Dockerfile, image: ImageSummary, service: string, stageIndex = df.stages.length - 1): StageMeasurement {
  const out: StageMeasurement = { service, image: image.reference, base: { layers: 0, size: 0, chainId: undefined }, steps: new Map(), problem: undefined };
  const stage = df.stages[stageIndex];
  if (!stage) return { ...out, problem: 'no such stage' };
  if (stage.base.kind !== 'image' && stage.base.kind !== 'scratch') return { ...out, problem: `the stage builds on ${stage.base.kind === 'stage' ? 'another stage' : 'an unresolved image'}; only stages FROM an image are measured` };
  const history = image.history;
  const layerOf: (number | undefined)[] = [];
  let n = 0;
  for (const h of history) layerOf.push(h.empty_layer ? undefined : n++);
  if (n !== image.layers.length) return { ...out, problem: `its history lists ${n} layers but it has ${image.layers.length}` };

  const pairs = new Map<number, number>();
  let h = history.length - 1;
  for (let k = stage.instructions.length - 1; k >= 0; k--) {
    const ins = stage.instructions[k]!;
    const entry = history[h];
    if (!entry) return { ...out, problem: `its history is shorter than the Dockerfile (at ${ins.keyword}, line ${ins.span.start.line})` };
    const kw = historyKeyword(entry);
    if (kw === ins.keyword || (kw === undefined && entry.empty_layer !== true && ['RUN', 'COPY', 'ADD'].includes(ins.keyword))) {
      pairs.set(ins.index, h);
      h--;
    } else if (ins.keyword === 'ARG' || ins.keyword === 'ONBUILD') {
      // BuildKit writes no history entry for ARG.
    } else return { ...out, problem: `line ${ins.span.start.line} (${ins.keyword}) does not match the image's history entry ${JSON.stringify(entry.created_by ?? '')}` };
  }
  let baseLayers = 0;
  for (let i = 0; i <= h; i++) if (layerOf[i] !== undefined) baseLayers++;
  const baseSize = image.layers.slice(0, baseLayers).reduce((a, l) => a + l.size, 0);
  out.base = { layers: baseLayers, size: baseSize, chainId: baseLayers ? image.layers[baseLayers - 1]!.chainId : undefined };
  for (const [ins, hi] of pairs) {
    const li = layerOf[hi];
    const l = li === undefined ? undefined : image.layers[li];
    out.steps.set(ins, l ? { index: l.index, size: l.size, diffId: l.diffId, chainId: l.chainId } : null);
  }
  return out;
}

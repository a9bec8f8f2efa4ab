import type { HistoryEntry, ImageConfig } from '../model/config.js';
import { readDockerfileStages, type DockerfileInstruction, type DockerfileStage } from './dockerfile-source.js';

/**
 * The instructions that produced the final image, oldest first: the last stage, preceded by the stage
 * it builds FROM when that is a stage of the same Dockerfile (recursively).
 */
export function finalStageInstructions(stages: readonly DockerfileStage[]): DockerfileInstruction[] {
  const out: DockerfileInstruction[] = [];
  const seen = new Set<number>();
  let stage: DockerfileStage | undefined = stages[stages.length - 1];
  while (stage && !seen.has(stage.index)) {
    seen.add(stage.index);
    out.unshift(...stage.instructions);
    const base = stage.base.toLowerCase();
    const before: DockerfileStage | undefined = stages.slice(0, stage.index).reverse().find((s) => s.name === base) ?? (/^\d+$/.test(base) ? stages[Number(base)] : undefined);
    stage = before && before.index < stage.index ? before : undefined;
  }
  return out;
}

/** A history entry's command in comparable form: keyword and text, builder decorations removed. */
export function normaliseHistory(h: HistoryEntry): { keyword: string; text: string } {
  let s = (h.created_by ?? '').trim();
  s = s.replace(/\s*# buildkit$/, '');
  s = s.replace(/^\/bin\/sh -c #\(nop\)\s*/, '');
  s = s.replace(/^RUN \|\d+ (?:\S+=\S*\s+)*/, 'RUN ');
  s = s.replace(/^\|\d+ (?:\S+=\S*\s+)*\/bin\/sh -c /, 'RUN ');
  s = s.replace(/^RUN \/bin\/sh -c /, 'RUN ');
  s = s.replace(/^\/bin\/sh -c /, 'RUN ');
  const m = /^([A-Z]+)\b\s*(.*)$/s.exec(s);
  if (!m) return { keyword: '', text: s };
  return { keyword: m[1]!, text: m[2]! };
}

const squash = (s: string) => s.replace(/\\\n/g, '').replace(/\s+/g, '').replace(/^\[|\]$/g, '');

/** How well a history entry matches an instruction: 0 (not at all) to 3 (same text). */
export function matchScore(h: { keyword: string; text: string }, ins: DockerfileInstruction): number {
  if (h.keyword !== ins.keyword) return 0;
  const a = squash(h.text);
  const b = squash(ins.args);
  if (a === b) return 3;
  if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
    // The classic builder records "COPY file:<hash> in /dest"; compare destinations.
    const dest = /\sin\s+(\S+)\s*$/.exec(h.text)?.[1] ?? h.text.split(/\s+/).pop() ?? '';
    const want = ins.args.split(/\s+/).pop() ?? '';
    return dest.replace(/\/$/, '') === want.replace(/\/$/, '') ? 2 : 1;
  }
  if (a.includes(b) || b.includes(a)) return 2;
  return 1;
}

/**
 * Aligns the image history with the Dockerfile's instructions (order kept, best total score, later
 * history entries preferred on ties since the base image's steps come first) and returns, for each
 * history index, the matched instruction.
 */
export function alignHistory(history: readonly HistoryEntry[], instructions: readonly DockerfileInstruction[]): Map<number, DockerfileInstruction> {
  const H = history.map(normaliseHistory);
  const n = H.length;
  const m = instructions.length;
  // best[i][j]: best score aligning history[i..] with instructions[j..]
  const best: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const s = matchScore(H[i]!, instructions[j]!);
      best[i]![j] = Math.max(best[i + 1]![j]!, best[i]![j + 1]!, s > 0 ? s + best[i + 1]![j + 1]! : 0);
    }
  }
  const out = new Map<number, DockerfileInstruction>();
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const s = matchScore(H[i]!, instructions[j]!);
    // Skip a history entry whenever that loses nothing: base-image steps precede ours.
    if (best[i + 1]![j]! === best[i]![j]!) i++;
    else if (s > 0 && s + best[i + 1]![j + 1]! === best[i]![j]!) {
      out.set(i, instructions[j]!);
      i++;
      j++;
    } else j++;
  }
  return out;
}

/** For each layer index, the Dockerfile line of the instruction that made it (undefined when unmatched). */
export function attributeLayers(config: ImageConfig, dockerfileText: string): (number | undefined)[] {
  const history = config.history ?? [];
  const matched = alignHistory(history, finalStageInstructions(readDockerfileStages(dockerfileText)));
  const layerHistory: number[] = [];
  history.forEach((h, i) => {
    if (!h.empty_layer) layerHistory.push(i);
  });
  const n = config.rootfs.diff_ids.length;
  const offset = Math.max(0, layerHistory.length - n); // as historyForLayers pairs them
  const out: (number | undefined)[] = [];
  for (let l = 0; l < n; l++) {
    const hi = layerHistory[l + offset];
    out.push(hi === undefined ? undefined : matched.get(hi)?.line);
  }
  return out;
}

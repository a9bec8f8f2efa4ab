/**
 * Facts derived once from the Dockerfile model and shared by all rules: each RUN's shell commands
 * and recognised programs, cache mounts, the final stage and the stages it builds on, and the
 * Dockerfile span of any word of a RUN script (for messages and fixes).
 */
import { recogniseScript, type ToolInvocation } from '../dockerfile/commands.js';
import type { Dockerfile, Instruction, Span, Stage } from '../dockerfile/model.js';
import { parseShell, type ShellScript, type ShellWord } from '../dockerfile/shell.js';
import { SourceText } from '../dockerfile/source.js';
import { expandWord } from '../dockerfile/variables.js';

export interface RunFacts {
  instruction: Instruction;
  script: ShellScript;
  tools: ToolInvocation[];
  /** Targets of RUN --mount=type=cache (resolved; ~ and $HOME read as /root). */
  cacheMounts: string[];
  /** Word offsets can be mapped back to the Dockerfile text (shell or heredoc form). */
  editable: boolean;
}

export class Facts {
  readonly src: SourceText;
  private readonly runs = new Map<number, RunFacts>();
  /** The stage whose image is the build result (the --target, or the last). */
  readonly finalStage: Stage | undefined;

  constructor(readonly dockerfile: Dockerfile, target?: string) {
    this.src = new SourceText(dockerfile.text);
    const stages = dockerfile.stages;
    this.finalStage = target !== undefined ? stages.find((s) => s.name === target.toLowerCase()) : stages[stages.length - 1];
  }

  run(ins: Instruction): RunFacts | undefined {
    if (ins.keyword !== 'RUN' || !ins.command) return undefined;
    const cached = this.runs.get(ins.index);
    if (cached) return cached;
    const c = ins.command;
    const script = c.form === 'exec' ? parseShell(c.argv!.map(quote).join(' ')) : parseShell(c.script);
    const lookup = (n: string) => ins.scope.get(n)?.value;
    const cacheMounts = ins.flags
      .filter((f) => f.name === 'mount' && f.options.type === 'cache')
      .map((f) => f.options.target ?? f.options.dst ?? f.options.destination ?? '')
      .map((t) => expandWord(t.replace(/^~(?=\/|$)/, '/root').replace(/^\$HOME(?=\/|$)|^\$\{HOME\}(?=\/|$)/, '/root'), lookup).value)
      .filter((t) => t !== '');
    const facts: RunFacts = { instruction: ins, script, tools: recogniseScript(script), cacheMounts, editable: c.sourceOffsets !== undefined && c.form !== 'exec' };
    this.runs.set(ins.index, facts);
    return facts;
  }

  /** All RUN instructions of a stage with their facts. */
  stageRuns(stage: Stage): RunFacts[] {
    return stage.instructions.map((i) => this.run(i)).filter((r): r is RunFacts => r !== undefined);
  }

  /** The stage and the stages it builds on (FROM earlier-stage), nearest first. */
  chain(stage: Stage): Stage[] {
    const out: Stage[] = [];
    let s: Stage | undefined = stage;
    const seen = new Set<number>();
    while (s && !seen.has(s.index)) {
      out.push(s);
      seen.add(s.index);
      s = s.base.kind === 'stage' && s.base.stage !== undefined ? this.dockerfile.stages[s.base.stage] : undefined;
    }
    return out;
  }

  /** Instructions of a stage including those of the stages it builds on, in build order. */
  chainInstructions(stage: Stage): Instruction[] {
    return this.chain(stage).reverse().flatMap((s) => s.instructions);
  }

  /** The Dockerfile span of a word of a RUN script; the whole instruction when it cannot be mapped. */
  wordSpan(ins: Instruction, word: ShellWord | undefined, nested = false): Span {
    const offs = ins.command?.sourceOffsets;
    if (!word || !offs || nested || ins.command?.form === 'exec') return ins.span;
    const a = offs[word.start];
    const b = offs[word.end - 1];
    if (a === undefined || b === undefined) return ins.span;
    return this.src.span(a, b + 1);
  }

  /** Dockerfile offset of a script index (for edits), or undefined. */
  offset(ins: Instruction, scriptIndex: number): number | undefined {
    return ins.command?.sourceOffsets?.[scriptIndex];
  }

  /** A span covering just the keyword of an instruction (for findings about the whole instruction). */
  keywordSpan(ins: Instruction): Span {
    return this.src.span(ins.span.start.offset, ins.span.start.offset + ins.keyword.length);
  }

  /** A span from the start of an instruction to the end of its first line. */
  firstLineSpan(ins: Instruction): Span {
    const line = this.src.line(ins.span.start.line);
    const end = Math.min(ins.span.end.offset, ins.span.start.offset - ins.span.start.column + 1 + line.replace(/\s*\\\s*$/, '').length);
    return this.src.span(ins.span.start.offset, Math.max(end, ins.span.start.offset + ins.keyword.length));
  }

  /** Whether a cache mount covers `path` (the mount target is the path or one of its parents). */
  static mounted(run: RunFacts, paths: readonly string[]): boolean {
    return run.cacheMounts.some((m) => {
      const t = m.replace(/\/+$/, '');
      return paths.some((p) => {
        const q = p.replace(/^~|^\$HOME/, '/root').replace(/\/+$/, '');
        return q === t || q.startsWith(t + '/');
      });
    });
  }
}

function quote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * dockerfile-ast -> the typed model in model.ts. dockerfile-ast finds instructions, flags, heredocs
 * and properties with their ranges; this file adds what Docker itself does on top: line
 * continuations and comment lines inside them, the exec/shell/heredoc forms, ARG/ENV scoping and
 * substitution, stage references and base-image names. Pure: text in, model out, never throws on a
 * bad Dockerfile (problems are listed in `problems`).
 */
import { DockerfileParser, type Instruction as AstInstruction, type Heredoc as AstHeredoc, type Flag as AstFlag, type Property } from 'dockerfile-ast';
import type { BaseImage, CopySpec, Dockerfile, DockerfileProblem, Flag, Heredoc, Instruction, RunCommand, Stage, VariableDefinition, VariableScope } from './model.js';
import { SourceText } from './source.js';
import { expandWord, splitWords, type Lookup, PLATFORM_ARGS } from './variables.js';
import { classifyBase } from './image.js';

export interface ParseOptions {
  /** For messages only. */
  path?: string;
  /** Values given with --build-arg; they override ARG defaults. */
  buildArgs?: Readonly<Record<string, string>>;
}

export const KEYWORDS = ['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'] as const;

const DEFAULT_SHELL = ['/bin/sh', '-c'] as const;
/** Parser directives Docker knows; other "# name=value" lines at the top are comments. */
const DIRECTIVES = ['syntax', 'escape', 'check'];

interface Joined {
  text: string;
  /** Source offset of each character, plus one entry for the end. */
  offsets: number[];
  /** Source offset where joining stopped. */
  end: number;
}

/**
 * Joins Dockerfile line continuations (escape character + optional blanks + newline) the way Docker
 * does: the escape and newline disappear, comment lines and empty lines inside the continuation are
 * dropped, and the first unescaped newline ends the logical line.
 */
export function joinContinuations(text: string, start: number, end: number, escape: string): Joined {
  let out = '';
  const offsets: number[] = [];
  let i = start;
  let atLineStart = false;
  while (i < end) {
    if (atLineStart) {
      let j = i;
      while (j < end && (text[j] === ' ' || text[j] === '\t')) j++;
      if (j < end && (text[j] === '#' || text[j] === '\n' || text[j] === '\r')) {
        const nl = text.indexOf('\n', j);
        i = nl < 0 || nl >= end ? end : nl + 1;
        continue;
      }
      atLineStart = false;
    }
    const c = text[i]!;
    if (c === escape) {
      let j = i + 1;
      while (j < end && (text[j] === ' ' || text[j] === '\t')) j++;
      if (j < end && (text[j] === '\n' || text[j] === '\r')) {
        i = text[j] === '\r' && text[j + 1] === '\n' ? j + 2 : j + 1;
        atLineStart = true;
        continue;
      }
      if (j >= end && j === text.length) {
        i = j;
        break;
      }
    }
    if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) break;
    out += c;
    offsets.push(i);
    i++;
  }
  offsets.push(offsets.length ? offsets[offsets.length - 1]! + 1 : start);
  return { text: out, offsets, end: i };
}

/** Resolves a WORKDIR against the previous one, like Docker (a relative path is relative to it). */
export function posixJoin(base: string, path: string): string {
  if (/^[A-Za-z]:[\\/]/.test(path)) return path; // a Windows path
  const parts = (path.startsWith('/') ? path : base + '/' + path).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return '/' + out.join('/');
}

function parseFlagOptions(value: string | null): Record<string, string> {
  const options: Record<string, string> = {};
  if (!value) return options;
  for (const part of value.split(',')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) options[part.trim()] = '';
    else options[part.slice(0, eq).trim()] = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return options;
}

function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* Docker falls back to the shell form */
  }
  return undefined;
}

type WithFlags = AstInstruction & { getFlags?: () => AstFlag[] };
type WithHeredocs = AstInstruction & { getHeredocs?: () => AstHeredoc[] };
type WithProperties = AstInstruction & { getProperties?: () => Property[] };

class Builder {
  readonly src: SourceText;
  readonly problems: DockerfileProblem[] = [];
  readonly instructions: Instruction[] = [];
  readonly stages: Stage[] = [];
  readonly globalArgs: Instruction[] = [];
  private stageInstructions: Instruction[] = [];
  /** Global ARG values (for FROM) and defaults (for `ARG NAME` redeclared in a stage). */
  private global = new Map<string, { value: string | undefined; kind: 'arg' | 'env' | 'build-arg' }>();
  private scope: Map<string, { value: string | undefined; kind: 'arg' | 'env' | 'build-arg' }> = new Map();
  /** Final ENV scope and SHELL of each stage, for stages that build on an earlier one. */
  private stageEnd: { scope: VariableScope; shell: readonly string[]; workdir: string }[] = [];
  private shell: readonly string[] = DEFAULT_SHELL;
  private workdir = '/';
  /** Source offset of each character of a heredoc body (plus its end). */
  private readonly heredocOffsets = new WeakMap<Heredoc, number[]>();

  constructor(
    readonly text: string,
    readonly escape: string,
    readonly buildArgs: Readonly<Record<string, string>>,
  ) {
    this.src = new SourceText(text);
    for (const name of PLATFORM_ARGS) {
      const v = buildArgs[name];
      this.global.set(name, { value: v, kind: v === undefined ? 'arg' : 'build-arg' });
    }
  }

  private lookup(scope: ReadonlyMap<string, { value: string | undefined }>): Lookup {
    return (name) => scope.get(name)?.value;
  }

  private problem(message: string, start: number, end: number): void {
    this.problems.push({ message, span: this.src.span(start, end) });
  }

  /** 1-based lines holding parser directives (# syntax=..., # escape=...), which are not comments. */
  directiveLines = new Set<number>();

  private commentsAbove(line0: number): string[] {
    const out: string[] = [];
    for (let l = line0; l >= 1; l--) {
      const t = this.src.line(l).trim();
      if (this.directiveLines.has(l)) break;
      if (!t.startsWith('#')) break;
      out.unshift(t.slice(1).trim());
    }
    return out;
  }

  private heredocs(ins: AstInstruction): Heredoc[] {
    const get = (ins as WithHeredocs).getHeredocs;
    if (typeof get !== 'function') return [];
    const out: Heredoc[] = [];
    for (const h of get.call(ins)) {
      const sr = h.getStartRange();
      const startText = this.text.slice(this.src.offsetOf(sr.start.line, sr.start.character), this.src.offsetOf(sr.end.line, sr.end.character));
      const stripTabs = startText.startsWith('<<-');
      const cr = h.getContentRange();
      let content = '';
      const map: number[] = [];
      let contentOffset = this.src.offsetOf(sr.start.line + 1, 0);
      if (cr) {
        contentOffset = this.src.offsetOf(cr.start.line, cr.start.character);
        const to = this.src.offsetOf(cr.end.line, cr.end.character);
        let lineStart = true;
        for (let k = contentOffset; k < to; k++) {
          const c = this.text[k]!;
          if (lineStart && stripTabs && c === '\t') continue;
          if (c === '\r' && this.text[k + 1] === '\n') continue;
          lineStart = c === '\n';
          content += c;
          map.push(k);
        }
        map.push(to);
        if (!content.endsWith('\n')) {
          content += '\n';
          map.push(to);
        }
      } else map.push(contentOffset);
      const heredoc: Heredoc = { name: h.getName(), stripTabs, content, contentOffset };
      this.heredocOffsets.set(heredoc, map);
      out.push(heredoc);
    }
    return out;
  }

  private flags(ins: AstInstruction): Flag[] {
    const get = (ins as WithFlags).getFlags;
    if (typeof get !== 'function') return [];
    return get.call(ins).map((f) => {
      const r = f.getRange();
      return {
        name: f.getName(),
        value: f.getValue(),
        options: parseFlagOptions(f.getValue()),
        span: this.src.span(this.src.offsetOf(r.start.line, r.start.character), this.src.offsetOf(r.end.line, r.end.character)),
      };
    });
  }

  private variables(ins: AstInstruction, lookup: Lookup): VariableDefinition[] {
    const get = (ins as WithProperties).getProperties;
    if (typeof get !== 'function') return [];
    return get.call(ins).map((p) => {
      const r = p.getRange();
      const vr = p.getValueRange();
      let resolved: string | undefined;
      if (vr) {
        const a = this.src.offsetOf(vr.start.line, vr.start.character);
        const b = this.src.offsetOf(vr.end.line, vr.end.character);
        resolved = expandWord(joinContinuations(this.text, a, b, this.escape).text, lookup, this.escape).value;
      } else if (p.getAssignmentOperator() === '=') resolved = '';
      const value = p.getValue() ?? (p.getAssignmentOperator() === '=' ? '' : undefined);
      return {
        name: p.getName(),
        value,
        resolved: value === undefined ? undefined : resolved,
        span: this.src.span(this.src.offsetOf(r.start.line, r.start.character), this.src.offsetOf(r.end.line, r.end.character)),
      };
    });
  }

  private command(keyword: string, args: Joined, heredocs: Heredoc[]): RunCommand | undefined {
    let script = args.text;
    let offsets = args.offsets;
    if (keyword === 'HEALTHCHECK') {
      const m = /^\s*CMD\s+/i.exec(script);
      if (!m) return undefined;
      script = script.slice(m[0].length);
      offsets = offsets.slice(m[0].length);
    }
    if (script.trim() === '') return undefined;
    const json = parseJsonArray(script);
    if (json) return { form: 'exec', script: json.join(' '), argv: json, sourceOffsets: undefined, shell: this.shell };
    const first = heredocs[0];
    if (keyword === 'RUN' && first && /^<<-?(["']?)[A-Za-z0-9_]+\1$/.test(script.trim())) {
      const content = first.content;
      const map = this.heredocOffsets.get(first)!;
      return { form: 'heredoc', script: content, argv: undefined, sourceOffsets: map, shell: this.shell };
    }
    return { form: 'shell', script, argv: undefined, sourceOffsets: offsets, shell: this.shell };
  }

  private copySpec(args: Joined, flags: Flag[], heredocs: Heredoc[], lookup: Lookup): CopySpec {
    const json = parseJsonArray(args.text);
    const words = json ?? splitWords(args.text, this.escape).map((w) => expandWord(w.text, lookup, this.escape).value);
    const expanded = json ? json.map((w) => expandWord(w, lookup, this.escape).value) : words;
    const sources = expanded.slice(0, -1);
    const destination = expanded[expanded.length - 1] ?? '';
    const fromFlag = flags.find((f) => f.name === 'from');
    const from = fromFlag?.value ?? undefined;
    let fromStage: number | undefined;
    if (from !== undefined) {
      const f = expandWord(from, lookup, this.escape).value;
      if (/^\d+$/.test(f) && Number(f) < this.stages.length) fromStage = Number(f);
      else {
        const idx = this.stages.findIndex((s) => s.name === f.toLowerCase());
        if (idx >= 0) fromStage = idx;
      }
    }
    return { sources, destination, from, fromStage, heredoc: heredocs.length > 0 && sources.some((s) => s.startsWith('<<')) };
  }

  add(ast: AstInstruction): void {
    const r = ast.getRange();
    const start = this.src.offsetOf(r.start.line, r.start.character);
    const end = this.src.offsetOf(r.end.line, r.end.character);
    const keyword = ast.getKeyword().toUpperCase();
    const ar = ast.getArgumentsRange();
    const argsOffset = ar ? this.src.offsetOf(ar.start.line, ar.start.character) : undefined;
    const joined: Joined = argsOffset === undefined ? { text: '', offsets: [end], end } : joinContinuations(this.text, argsOffset, end, this.escape);
    const heredocs = this.heredocs(ast);
    const flags = this.flags(ast);
    const inStage = this.stages.length > 0;
    const stageIndex = keyword === 'FROM' ? this.stages.length : this.stages.length - 1;

    if (!(KEYWORDS as readonly string[]).includes(keyword)) this.problem(`unknown instruction ${ast.getInstruction()}`, start, end);
    else if (!inStage && keyword !== 'ARG' && keyword !== 'FROM') this.problem(`${keyword} before the first FROM (only ARG may come before FROM)`, start, end);
    if (argsOffset === undefined && !['HEALTHCHECK'].includes(keyword) && (KEYWORDS as readonly string[]).includes(keyword)) {
      this.problem(`${keyword} has no arguments`, start, end);
    }

    const scopeBefore: VariableScope = keyword === 'FROM' || !inStage ? new Map(this.global) : this.scope;
    const lookup = this.lookup(scopeBefore);
    const ins: Instruction = {
      keyword,
      stage: keyword === 'FROM' ? stageIndex : inStage ? stageIndex : -1,
      index: this.instructions.length,
      span: this.src.span(start, end),
      text: this.text.slice(start, end),
      args: joined.text,
      argsOffset,
      flags,
      heredocs,
      scope: scopeBefore,
      workdir: this.workdir,
      comments: this.commentsAbove(r.start.line),
    };

    switch (keyword) {
      case 'FROM':
        this.from(ins, joined, flags);
        return;
      case 'ARG': {
        ins.variables = this.variables(ast, lookup);
        this.defineArgs(ins.variables, inStage);
        break;
      }
      case 'ENV': {
        ins.variables = this.variables(ast, lookup);
        const next = new Map(this.scope);
        for (const v of ins.variables) next.set(v.name, { value: v.resolved, kind: 'env' });
        this.scope = next;
        break;
      }
      case 'SHELL': {
        const json = parseJsonArray(joined.text);
        if (json && json.length) this.shell = json;
        else this.problem('SHELL needs the JSON form, such as ["/bin/bash", "-c"]', start, end);
        break;
      }
      case 'RUN':
      case 'CMD':
      case 'ENTRYPOINT':
      case 'HEALTHCHECK': {
        const c = this.command(keyword, joined, heredocs);
        if (c) ins.command = c;
        break;
      }
      case 'COPY':
      case 'ADD':
        ins.copy = this.copySpec(joined, flags, heredocs, lookup);
        break;
      case 'WORKDIR': {
        const dir = expandWord(joined.text.trim(), lookup, this.escape).value;
        if (dir) this.workdir = posixJoin(this.workdir, dir);
        break;
      }
      case 'USER':
        ins.user = expandWord(joined.text.trim(), lookup, this.escape).value;
        break;
      case 'ONBUILD': {
        const w = /^\s*(\S+)/.exec(joined.text);
        if (w) ins.trigger = w[1]!.toUpperCase();
        break;
      }
    }
    this.instructions.push(ins);
    if (inStage) this.stageInstructions.push(ins);
    else if (keyword === 'ARG') this.globalArgs.push(ins);
  }

  private defineArgs(defs: readonly VariableDefinition[], inStage: boolean): void {
    const target = inStage ? new Map(this.scope) : this.global;
    for (const d of defs) {
      if (inStage && target.get(d.name)?.kind === 'env') continue; // ENV always wins over ARG
      const given = this.buildArgs[d.name];
      if (given !== undefined) target.set(d.name, { value: given, kind: 'build-arg' });
      else if (d.value !== undefined) target.set(d.name, { value: d.resolved, kind: 'arg' });
      else if (inStage) target.set(d.name, { value: this.global.get(d.name)?.value, kind: 'arg' });
      else target.set(d.name, { value: undefined, kind: 'arg' });
    }
    if (inStage) this.scope = target;
  }

  private from(ins: Instruction, joined: Joined, flags: Flag[]): void {
    this.closeStage();
    const words = splitWords(joined.text, this.escape);
    const image = words[0];
    const lookup = this.lookup(this.global);
    let name: string | undefined;
    if (words.length >= 3 && words[1]!.text.toUpperCase() === 'AS') name = words[2]!.text.toLowerCase();
    else if (words.length > 1) this.problem(`FROM takes an image and an optional "AS name"; got ${JSON.stringify(joined.text)}`, ins.span.start.offset, ins.span.end.offset);
    const platformFlag = flags.find((f) => f.name === 'platform');
    const platform = platformFlag?.value ? expandWord(platformFlag.value, lookup, this.escape).value : undefined;
    const imgStart = image ? joined.offsets[image.start]! : ins.span.end.offset;
    const imgEnd = image ? joined.offsets[image.start + image.text.length - 1]! + 1 : ins.span.end.offset;
    const base: BaseImage = classifyBase(
      image?.text ?? '',
      image ? expandWord(image.text, lookup, this.escape) : { value: '', unresolved: [] },
      this.stages.map((s) => s.name),
      platform,
      this.src.span(imgStart, imgEnd),
    );
    ins.base = base;
    this.instructions.push(ins);
    // A stage built on an earlier stage inherits its ENV and SHELL; any other stage starts empty.
    const parent = base.kind === 'stage' && base.stage !== undefined ? this.stageEnd[base.stage] : undefined;
    this.scope = new Map([...(parent?.scope ?? new Map())].filter(([, v]) => v.kind === 'env'));
    this.shell = parent?.shell ?? DEFAULT_SHELL;
    this.workdir = parent?.workdir ?? '/';
    this.stageInstructions = [];
    this.stages.push({ index: this.stages.length, name, from: ins, base, instructions: this.stageInstructions });
  }

  private closeStage(): void {
    if (this.stages.length) this.stageEnd[this.stages.length - 1] = { scope: this.scope, shell: this.shell, workdir: this.workdir };
  }

  finish(): void {
    this.closeStage();
    if (this.stages.length === 0) this.problem('no FROM instruction', 0, 0);
  }
}

/** Parses a Dockerfile into the typed model. */
export function parseDockerfile(text: string, options: ParseOptions = {}): Dockerfile {
  const ast = DockerfileParser.parse(text);
  const escape = ast.getEscapeCharacter();
  const b = new Builder(text, escape, options.buildArgs ?? {});
  // dockerfile-ast reads any leading "# word ...=value" as a directive; Docker only knows a few
  // names written "# name=value", and reads every other such line as a comment.
  // Directives end at the first line that is not one: after a comment, "# syntax=..." is a comment too.
  const candidates = [...ast.getDirectives()].sort((x, y) => x.getRange().start.line - y.getRange().start.line);
  const directives: typeof candidates = [];
  for (const d of candidates) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(b.src.line(d.getRange().start.line + 1));
    if (!m || !DIRECTIVES.includes(m[1]!.toLowerCase())) break;
    directives.push(d);
  }
  for (const d of directives) b.directiveLines.add(d.getRange().start.line + 1);
  const fakeDirectives = ast.getDirectives().filter((d) => !directives.includes(d)).map((d) => d.getRange().start.line + 1);
  for (const ins of ast.getInstructions()) b.add(ins);
  b.finish();
  const comments = [
    ...fakeDirectives.map((line) => ({ line, text: b.src.line(line).trim().replace(/^#\s?/, '').trim() })),
    ...ast.getComments().filter((c) => !b.directiveLines.has(c.getRange().start.line + 1)).map((c) => ({ line: c.getRange().start.line + 1, text: c.getContent() })),
  ].sort((x, y) => x.line - y.line);
  return {
    path: options.path,
    text,
    escape,
    directives: directives.map((d) => ({ name: d.getName().toLowerCase(), value: d.getValue(), line: d.getRange().start.line + 1 })),
    globalArgs: b.globalArgs,
    stages: b.stages,
    instructions: b.instructions,
    comments,
    problems: b.problems,
  };
}

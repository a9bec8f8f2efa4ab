/**
 * A small POSIX shell reader for RUN scripts: it splits a script on `&&`, `||`, `;`, `|`, `&`,
 * newlines and parentheses into simple commands, each with its argv (quotes removed), leading
 * `NAME=value` assignments and redirections, and the offsets of every word in the script so a fix
 * can edit the Dockerfile text precisely. It does not run or expand anything: `$VAR`, `$(...)` and
 * backquotes stay in the word as written and mark it `dynamic`.
 *
 * Enough to recognise package-manager commands and their flags reliably; not a full shell grammar
 * (case patterns and function definitions are read as ordinary words).
 */

export interface ShellWord {
  /** The word as written, quotes included. */
  raw: string;
  /** Quotes and escapes removed; expansions kept as written. */
  value: string;
  /** Offsets in the script; `end` is exclusive. */
  start: number;
  end: number;
  /** Contains an unquoted or double-quoted `$`, `$(...)` or backquote: its value is only known at run time. */
  dynamic: boolean;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `<<`, `<<-`, `<<<`, `>&`, `<&`, `&>`, `&>>`, `>|`, `<>`. */
  op: string;
  /** The file descriptor written before the operator (2 in `2>&1`). */
  fd: string | undefined;
  target: ShellWord | undefined;
  start: number;
  end: number;
}

export type ControlOperator = '&&' | '||' | ';' | ';;' | '|' | '|&' | '&' | '\n' | '(' | ')';

export interface SimpleCommand {
  /** The command and its arguments (assignments, redirections and leading reserved words removed). */
  argv: ShellWord[];
  /** `NAME=value` words before the command. */
  assignments: ShellWord[];
  redirects: Redirect[];
  /** Reserved words stripped from the front (if, then, do, !, {, ...). */
  reserved: string[];
  start: number;
  end: number;
  /** The control operator before and after this command (undefined at the start / end of the script). */
  before: ControlOperator | undefined;
  after: ControlOperator | undefined;
}

export interface ShellComment {
  text: string;
  start: number;
  end: number;
}

export interface ShellScript {
  commands: SimpleCommand[];
  comments: ShellComment[];
  operators: { op: ControlOperator; start: number; end: number }[];
  /** A quote, `$(`, `${` or heredoc was not closed. */
  unterminated: boolean;
}

const RESERVED_PREFIX = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', 'time']);
const RESERVED_ALONE = new Set(['fi', 'done', '}', 'esac']);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

type Token =
  | { kind: 'word'; word: ShellWord }
  | { kind: 'op'; op: ControlOperator; start: number; end: number }
  | { kind: 'redirect'; op: string; fd: string | undefined; start: number; end: number };

class Reader {
  i = 0;
  tokens: Token[] = [];
  comments: ShellComment[] = [];
  unterminated = false;
  private pendingHeredocs: { delim: string; strip: boolean }[] = [];

  constructor(private readonly s: string) {}

  run(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === ' ' || c === '\t' || c === '\r') {
        this.i++;
      } else if (c === '\\' && s[this.i + 1] === '\n') {
        this.i += 2; // a shell line continuation
      } else if (c === '\n') {
        this.tokens.push({ kind: 'op', op: '\n', start: this.i, end: this.i + 1 });
        this.i++;
        if (this.pendingHeredocs.length) this.skipHeredocBodies();
      } else if (c === '#') {
        const nl = s.indexOf('\n', this.i);
        const end = nl < 0 ? s.length : nl;
        this.comments.push({ text: s.slice(this.i + 1, end).trim(), start: this.i, end });
        this.i = end;
      } else if (c === '&' || c === '|' || c === ';' || c === '(' || c === ')') {
        this.operator();
      } else if (c === '<' || c === '>') {
        this.redirect(undefined, this.i);
      } else {
        this.word();
      }
    }
    if (this.pendingHeredocs.length) this.unterminated = true;
  }

  private operator(): void {
    const s = this.s;
    const two = s.slice(this.i, this.i + 2);
    const three = s.slice(this.i, this.i + 3);
    if (three === '&>>' || two === '&>') return this.redirect(undefined, this.i);
    for (const op of ['&&', '||', ';;', '|&'] as const) {
      if (two === op) {
        this.tokens.push({ kind: 'op', op, start: this.i, end: this.i + 2 });
        this.i += 2;
        return;
      }
    }
    const op = s[this.i] as ControlOperator;
    this.tokens.push({ kind: 'op', op, start: this.i, end: this.i + 1 });
    this.i++;
  }

  /** Reads a redirection operator at this.i; `fd` and `start` cover a file descriptor written before it. */
  private redirect(fd: string | undefined, start: number): void {
    const s = this.s;
    const ops = ['&>>', '<<<', '<<-', '&>', '>>', '<<', '>&', '<&', '>|', '<>', '>', '<'];
    const op = ops.find((o) => s.startsWith(o, this.i))!;
    this.i += op.length;
    this.tokens.push({ kind: 'redirect', op, fd, start, end: this.i });
    if (op === '<<' || op === '<<-') {
      // The next word is the heredoc delimiter; its body starts on the next line.
      while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
      const before = this.tokens.length;
      this.word();
      const t = this.tokens[before];
      if (t && t.kind === 'word') this.pendingHeredocs.push({ delim: t.word.value, strip: op === '<<-' });
    }
  }

  private skipHeredocBodies(): void {
    const s = this.s;
    for (const h of this.pendingHeredocs) {
      for (;;) {
        if (this.i >= s.length) {
          this.unterminated = true;
          return;
        }
        const nl = s.indexOf('\n', this.i);
        const end = nl < 0 ? s.length : nl;
        let line = s.slice(this.i, end);
        if (h.strip) line = line.replace(/^\t+/, '');
        this.i = nl < 0 ? s.length : nl + 1;
        if (line === h.delim) break;
      }
    }
    this.pendingHeredocs = [];
  }

  /** Reads one word starting at this.i. */
  private word(): void {
    const s = this.s;
    const start = this.i;
    let value = '';
    let dynamic = false;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') break;
      if (c === '<' || c === '>') {
        // `2>` : a word of digits right before a redirection is its file descriptor.
        if (/^\d+$/.test(s.slice(start, this.i))) return this.redirect(s.slice(start, this.i), start);
        break;
      }
      if (c === '\\') {
        if (s[this.i + 1] === '\n') {
          this.i += 2;
          continue;
        }
        if (this.i + 1 < s.length) value += s[this.i + 1];
        this.i += 2;
      } else if (c === "'") {
        const close = s.indexOf("'", this.i + 1);
        if (close < 0) {
          this.unterminated = true;
          value += s.slice(this.i + 1);
          this.i = s.length;
        } else {
          value += s.slice(this.i + 1, close);
          this.i = close + 1;
        }
      } else if (c === '"') {
        this.i++;
        while (this.i < s.length && s[this.i] !== '"') {
          const d = s[this.i]!;
          if (d === '\\' && this.i + 1 < s.length) {
            const n = s[this.i + 1]!;
            if (n === '\n') {
              this.i += 2;
              continue;
            }
            value += '$`"\\'.includes(n) ? n : d + n;
            this.i += 2;
          } else if (d === '$' || d === '`') {
            dynamic = true;
            value += this.expansion();
          } else {
            value += d;
            this.i++;
          }
        }
        if (this.i >= s.length) this.unterminated = true;
        else this.i++;
      } else if (c === '$' || c === '`') {
        const e = this.expansion();
        if (e !== '$') dynamic = true;
        value += e;
      } else {
        value += c;
        this.i++;
      }
    }
    if (this.i > start) this.tokens.push({ kind: 'word', word: { raw: s.slice(start, this.i), value, start, end: this.i, dynamic } });
  }

  /** Reads `$name`, `${...}`, `$(...)`, `$((...))` or a backquoted command; returns it as written. */
  private expansion(): string {
    const s = this.s;
    const start = this.i;
    if (s[this.i] === '`') {
      let j = this.i + 1;
      while (j < s.length && s[j] !== '`') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) this.unterminated = true;
      this.i = Math.min(j + 1, s.length);
      return s.slice(start, this.i);
    }
    const n = s[this.i + 1];
    if (n === '{') {
      this.i = this.balanced(this.i + 2, '{', '}');
      return s.slice(start, this.i);
    }
    if (n === '(') {
      this.i = this.balanced(this.i + 2, '(', ')');
      return s.slice(start, this.i);
    }
    if (n !== undefined && /[A-Za-z0-9_@*#?$!-]/.test(n)) {
      let j = this.i + 1;
      if (/[A-Za-z_]/.test(n)) while (j < s.length && /[A-Za-z0-9_]/.test(s[j]!)) j++;
      else j++;
      this.i = j;
      return s.slice(start, j);
    }
    this.i++;
    return '$';
  }

  /** Index just past the bracket that closes the one opened before `from`, skipping quotes. */
  private balanced(from: number, open: string, close: string): number {
    const s = this.s;
    let depth = 1;
    let j = from;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '\\') j += 2;
      else if (c === "'") {
        const q = s.indexOf("'", j + 1);
        j = q < 0 ? s.length : q + 1;
      } else if (c === '"') {
        j++;
        while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
        j++;
      } else if (c === open) {
        depth++;
        j++;
      } else if (c === close) {
        depth--;
        j++;
        if (depth === 0) return j;
      } else j++;
    }
    this.unterminated = true;
    return s.length;
  }
}

/** Splits a shell script into simple commands. Pure; never throws. */
export function parseShell(script: string): ShellScript {
  const r = new Reader(script);
  r.run();
  const commands: SimpleCommand[] = [];
  const operators: ShellScript['operators'] = [];
  let current: SimpleCommand | undefined;
  let lastOp: ControlOperator | undefined;
  const finish = (after: ControlOperator | undefined) => {
    if (current) {
      while (current.argv.length && RESERVED_PREFIX.has(current.argv[0]!.raw)) current.reserved.push(current.argv.shift()!.raw);
      if (current.argv.length === 1 && RESERVED_ALONE.has(current.argv[0]!.raw) && !current.redirects.length) current.argv = [];
      else if (current.argv.length && RESERVED_ALONE.has(current.argv[0]!.raw)) current.reserved.push(current.argv.shift()!.raw);
      current.after = after;
      if (current.argv.length || current.assignments.length || current.redirects.length) commands.push(current);
    }
    current = undefined;
  };
  const toks = r.tokens;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind === 'op') {
      finish(t.op);
      operators.push({ op: t.op, start: t.start, end: t.end });
      lastOp = t.op;
      continue;
    }
    if (!current) current = { argv: [], assignments: [], redirects: [], reserved: [], start: t.kind === 'word' ? t.word.start : t.start, end: 0, before: lastOp, after: undefined };
    if (t.kind === 'redirect') {
      const next = toks[k + 1];
      const target = next && next.kind === 'word' ? next.word : undefined;
      if (target) k++;
      current.redirects.push({ op: t.op, fd: t.fd, target, start: t.start, end: target ? target.end : t.end });
      current.end = target ? target.end : t.end;
      continue;
    }
    const w = t.word;
    if (current.argv.length === 0 && ASSIGNMENT.test(w.raw)) current.assignments.push(w);
    else current.argv.push(w);
    current.end = w.end;
  }
  finish(undefined);
  return { commands, comments: r.comments, operators, unterminated: r.unterminated };
}

/** The argv values of a command. */
export function argvOf(cmd: SimpleCommand): string[] {
  return cmd.argv.map((w) => w.value);
}

/**
 * Variable substitution the way Docker's Dockerfile frontend does it (moby/buildkit shell/lex.go):
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?msg}`,
 * `${VAR#pat}`, `${VAR##pat}`, `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`;
 * single quotes are literal, double quotes allow substitution, the escape character escapes.
 *
 * Pure functions over a lookup; the scoping rules (which ARG/ENV is visible where) live in parse.ts.
 */

/** Returns the value of a variable, or undefined when it is not set. */
export type Lookup = (name: string) => string | undefined;

export interface Expansion {
  value: string;
  /** Variables that were used without a value and without a default (Docker substitutes ''). */
  unresolved: string[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Turns a shell glob (* ? [..]) into a RegExp source. */
function globSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

function trimPrefix(value: string, pattern: string, longest: boolean): string {
  const re = new RegExp('^' + globSource(pattern) + '$');
  if (longest) {
    for (let n = value.length; n >= 0; n--) if (re.test(value.slice(0, n))) return value.slice(n);
  } else {
    for (let n = 0; n <= value.length; n++) if (re.test(value.slice(0, n))) return value.slice(n);
  }
  return value;
}

function trimSuffix(value: string, pattern: string, longest: boolean): string {
  const re = new RegExp('^' + globSource(pattern) + '$');
  if (longest) {
    for (let n = 0; n <= value.length; n++) if (re.test(value.slice(n))) return value.slice(0, n);
  } else {
    for (let n = value.length; n >= 0; n--) if (re.test(value.slice(n))) return value.slice(0, n);
  }
  return value;
}

function replacePattern(value: string, pattern: string, repl: string, all: boolean): string {
  if (pattern === '') return value;
  const re = new RegExp(globSource(pattern), all ? 'g' : '');
  return value.replace(re, () => repl);
}

class Lexer {
  private i = 0;
  readonly unresolved: string[] = [];
  constructor(
    private readonly s: string,
    private readonly lookup: Lookup,
    private readonly escape: string,
    /** Inside a ${...} word: stop at the closing brace (and at '/' for the pattern of ${v/p/r}). */
    private readonly stopAt: string = '',
  ) {}

  get pos(): number {
    return this.i;
  }

  /** Processes until the end or an unquoted stop character; returns the text produced. */
  word(keepQuotes = false): string {
    let out = '';
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (this.stopAt.includes(c)) break;
      if (c === this.escape) {
        if (this.i + 1 < s.length) {
          out += keepQuotes ? c + s[this.i + 1] : s[this.i + 1];
          this.i += 2;
        } else {
          out += c;
          this.i++;
        }
      } else if (c === "'") {
        const close = s.indexOf("'", this.i + 1);
        const end = close < 0 ? s.length : close;
        out += keepQuotes ? s.slice(this.i, Math.min(end + 1, s.length)) : s.slice(this.i + 1, end);
        this.i = end + 1;
      } else if (c === '"') {
        out += this.doubleQuoted(keepQuotes);
      } else if (c === '$') {
        out += this.dollar();
      } else {
        out += c;
        this.i++;
      }
    }
    return out;
  }

  private doubleQuoted(keepQuotes: boolean): string {
    const s = this.s;
    let out = keepQuotes ? '"' : '';
    this.i++;
    while (this.i < s.length && s[this.i] !== '"') {
      const c = s[this.i]!;
      if (c === this.escape && this.i + 1 < s.length && ['"', '$', this.escape].includes(s[this.i + 1]!)) {
        out += s[this.i + 1];
        this.i += 2;
      } else if (c === '$') out += this.dollar();
      else {
        out += c;
        this.i++;
      }
    }
    if (this.i < s.length) this.i++;
    return keepQuotes ? out + '"' : out;
  }

  private get(name: string): string | undefined {
    return this.lookup(name);
  }

  private dollar(): string {
    const s = this.s;
    const next = s[this.i + 1];
    if (next === '{') {
      this.i += 2;
      let name = '';
      while (this.i < s.length && NAME_CHAR.test(s[this.i]!)) name += s[this.i++];
      if (name === '') {
        // Not a variable: keep it literally up to the closing brace.
        const close = s.indexOf('}', this.i);
        const end = close < 0 ? s.length : close + 1;
        const lit = '${' + s.slice(this.i, end);
        this.i = end;
        return lit;
      }
      const value = this.get(name);
      if (s[this.i] === '}') {
        this.i++;
        if (value === undefined) this.unresolved.push(name);
        return value ?? '';
      }
      let op = s[this.i] ?? '';
      this.i++;
      if (op === ':' && '-+?'.includes(s[this.i] ?? '')) op += s[this.i++];
      else if ((op === '#' || op === '%' || op === '/') && s[this.i] === op) op += s[this.i++];
      const sub = new Lexer(s, this.lookup, this.escape, op.startsWith('/') ? '/}' : '}');
      sub.i = this.i;
      const word = sub.word();
      let repl = '';
      if (op.startsWith('/') && s[sub.i] === '/') {
        const r = new Lexer(s, this.lookup, this.escape, '}');
        r.i = sub.i + 1;
        repl = r.word();
        sub.i = r.i;
        this.unresolved.push(...r.unresolved);
      }
      this.i = sub.i < s.length ? sub.i + 1 : sub.i;
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      switch (op) {
        case ':-':
          this.unresolved.push(...(nonEmpty ? [] : sub.unresolved));
          return nonEmpty ? value! : word;
        case '-':
          this.unresolved.push(...(set ? [] : sub.unresolved));
          return set ? value! : word;
        case ':+':
          this.unresolved.push(...(nonEmpty ? sub.unresolved : []));
          return nonEmpty ? word : '';
        case '+':
          this.unresolved.push(...(set ? sub.unresolved : []));
          return set ? word : '';
        case ':?':
        case '?':
          if (op === ':?' ? !nonEmpty : !set) this.unresolved.push(name);
          return value ?? '';
        default: {
          this.unresolved.push(...sub.unresolved);
          if (!set) this.unresolved.push(name);
          const v = value ?? '';
          if (op === '#' || op === '##') return trimPrefix(v, word, op === '##');
          if (op === '%' || op === '%%') return trimSuffix(v, word, op === '%%');
          if (op === '/' || op === '//') return replacePattern(v, word, repl, op === '//');
          // An unknown modifier: Docker refuses the Dockerfile; keep the text so the problem is visible.
          return '${' + name + op + word + '}';
        }
      }
    }
    if (next !== undefined && NAME_START.test(next)) {
      this.i++;
      let name = '';
      while (this.i < s.length && NAME_CHAR.test(s[this.i]!)) name += s[this.i++];
      const value = this.get(name);
      if (value === undefined) this.unresolved.push(name);
      return value ?? '';
    }
    this.i++;
    return '$';
  }
}

/**
 * Substitutes variables in one word and removes its quotes and escapes, as Docker does for the
 * arguments of FROM, COPY, ADD, WORKDIR, USER, ENV, ARG, LABEL, EXPOSE, VOLUME and STOPSIGNAL.
 */
export function expandWord(text: string, lookup: Lookup, escape = '\\'): Expansion {
  const lx = new Lexer(text, lookup, escape);
  const value = lx.word();
  return { value, unresolved: [...new Set(lx.unresolved)] };
}

/**
 * Substitutes variables but keeps quotes and escapes in place (for text that a shell reads later,
 * such as a RUN script whose variables are known).
 */
export function substitute(text: string, lookup: Lookup, escape = '\\'): Expansion {
  const lx = new Lexer(text, lookup, escape);
  const value = lx.word(true);
  return { value, unresolved: [...new Set(lx.unresolved)] };
}

export interface RawWord {
  text: string;
  /** Index of the word in the input. */
  start: number;
}

/** Splits instruction arguments into words on unquoted whitespace, keeping quotes (for expandWord). */
export function splitWords(text: string, escape = '\\'): RawWord[] {
  const words: RawWord[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    let quote: string | undefined;
    while (i < text.length) {
      const c = text[i]!;
      if (quote) {
        if (c === escape && quote === '"' && i + 1 < text.length) i += 2;
        else {
          if (c === quote) quote = undefined;
          i++;
        }
      } else if (/\s/.test(c)) break;
      else if (c === escape && i + 1 < text.length) i += 2;
      else {
        if (c === '"' || c === "'") quote = c;
        i++;
      }
    }
    words.push({ text: text.slice(start, i), start });
  }
  return words;
}

/** Whether the text uses any $ substitution (outside single quotes). */
export function hasVariables(text: string, escape = '\\'): boolean {
  let found = false;
  const lx = new Lexer(text, (n) => {
    found = true;
    return n;
  }, escape);
  lx.word();
  return found;
}

/** Names Docker defines automatically in the global scope (usable in FROM without an ARG). */
export const PLATFORM_ARGS = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'] as const;

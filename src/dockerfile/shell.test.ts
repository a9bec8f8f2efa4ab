import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { argvOf, parseShell } from './shell.js';

const argvs = (s: string) => parseShell(s).commands.map(argvOf);

describe('parseShell', () => {
  it('splits on && || ; | & and newlines', () => {
    expect(argvs('apt-get update && apt-get install -y curl || true; echo a | tee b & wait\nls')).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'curl'],
      ['true'],
      ['echo', 'a'],
      ['tee', 'b'],
      ['wait'],
      ['ls'],
    ]);
  });

  it('records the operators around each command', () => {
    const cmds = parseShell('a && b; c').commands;
    expect(cmds.map((c) => [c.before, c.after])).toEqual([
      [undefined, '&&'],
      ['&&', ';'],
      [';', undefined],
    ]);
  });

  it('removes quotes and escapes from argv but keeps the raw word and its offsets', () => {
    const s = `pip install "flask==3.0" 'gunicorn' a\\ b`;
    const [cmd] = parseShell(s).commands;
    expect(argvOf(cmd!)).toEqual(['pip', 'install', 'flask==3.0', 'gunicorn', 'a b']);
    for (const w of cmd!.argv) expect(s.slice(w.start, w.end)).toBe(w.raw);
  });

  it('keeps expansions in words and marks them dynamic', () => {
    const [cmd] = parseShell('echo $HOME "${A:-x}" $(cat f | wc -l) `date` \'$lit\'').commands;
    expect(argvOf(cmd!)).toEqual(['echo', '$HOME', '${A:-x}', '$(cat f | wc -l)', '`date`', '$lit']);
    expect(cmd!.argv.map((w) => w.dynamic)).toEqual([false, true, true, true, true, false]);
  });

  it('separates leading assignments and redirections', () => {
    const [cmd] = parseShell('DEBIAN_FRONTEND=noninteractive A=1 apt-get install -y x >/dev/null 2>&1').commands;
    expect(argvOf(cmd!)).toEqual(['apt-get', 'install', '-y', 'x']);
    expect(cmd!.assignments.map((w) => w.value)).toEqual(['DEBIAN_FRONTEND=noninteractive', 'A=1']);
    expect(cmd!.redirects.map((r) => [r.fd, r.op, r.target?.value])).toEqual([
      [undefined, '>', '/dev/null'],
      ['2', '>&', '1'],
    ]);
  });

  it('does not treat a later NAME=value word as an assignment', () => {
    const [cmd] = parseShell('make CC=clang all').commands;
    expect(argvOf(cmd!)).toEqual(['make', 'CC=clang', 'all']);
  });

  it('strips reserved words of if/while/for bodies and subshell parentheses', () => {
    expect(argvs('if [ -f requirements.txt ]; then pip install -r requirements.txt; fi')).toEqual([
      ['[', '-f', 'requirements.txt', ']'],
      ['pip', 'install', '-r', 'requirements.txt'],
    ]);
    expect(argvs('(cd /src && make) && { echo ok; }')).toEqual([['cd', '/src'], ['make'], ['echo', 'ok']]);
    expect(argvs('for p in a b; do npm i $p; done')).toEqual([['for', 'p', 'in', 'a', 'b'], ['npm', 'i', '$p']]);
  });

  it('reads comments without making them commands', () => {
    const r = parseShell('apt-get update # refresh\n# whole line\necho a#b');
    expect(r.commands.map(argvOf)).toEqual([['apt-get', 'update'], ['echo', 'a#b']]);
    expect(r.comments.map((c) => c.text)).toEqual(['refresh', 'whole line']);
  });

  it('skips heredoc bodies inside a script', () => {
    expect(argvs("cat <<'EOF' > /etc/app.conf\nrm -rf /\nEOF\necho done")).toEqual([['cat'], ['echo', 'done']]);
    expect(argvs('cat <<-EOF\n\tx && y\n\tEOF\nls')).toEqual([['cat'], ['ls']]);
  });

  it('joins shell line continuations inside a script', () => {
    expect(argvs('apt-get install \\\n  curl')).toEqual([['apt-get', 'install', 'curl']]);
  });

  it('reports unterminated quotes', () => {
    expect(parseShell('echo "abc').unterminated).toBe(true);
    expect(parseShell("echo 'abc").unterminated).toBe(true);
    expect(parseShell('echo $(abc').unterminated).toBe(true);
    expect(parseShell('echo "a" \'b\' $(c)').unterminated).toBe(false);
  });

  it('never throws, and word offsets always point at the raw text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '&', '|', ';', '"', "'", '\\', '$', '(', ')', '{', '}', '<', '>', '#', '\n', '=', '`', '2') }), (s) => {
        const r = parseShell(s);
        for (const c of r.commands) for (const w of [...c.argv, ...c.assignments]) expect(s.slice(w.start, w.end)).toBe(w.raw);
      }),
      { numRuns: 500 },
    );
  });
});

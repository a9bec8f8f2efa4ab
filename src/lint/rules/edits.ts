/** Mechanical edits fixable rules offer: insert a flag after a word, append a command to a RUN. */
import type { ShellWord } from '../../dockerfile/shell.js';
import type { Edit } from '../types.js';
import type { Facts, RunFacts } from '../facts.js';

/** `&&` chains and `rm -rf` mean what they say only in a POSIX shell (not PowerShell or cmd). */
export function posixShell(shell: readonly string[]): boolean {
  const exe = (shell[0] ?? '').split(/[\\/]/).pop()!.toLowerCase();
  return ['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'busybox'].includes(exe);
}

/** Inserts ` text` right after a word of a RUN script; undefined when the word cannot be mapped to the Dockerfile. */
export function insertAfter(facts: Facts, run: RunFacts, word: ShellWord | undefined, text: string, nested: boolean): Edit[] | undefined {
  if (!word || nested || !run.editable || run.instruction.command?.form !== 'shell') return undefined;
  const last = facts.offset(run.instruction, word.end - 1);
  if (last === undefined) return undefined;
  return [{ start: last + 1, end: last + 1, text: ' ' + text }];
}

/**
 * Appends `&& command` at the end of a shell-form RUN. Safe: the RUN still fails exactly when it
 * failed before (a failing script skips the appended command), and a successful one runs it last.
 * Refused when the script ends in a comment, a background `&`, a dangling operator or an open quote.
 */
export function appendCommand(facts: Facts, run: RunFacts, command: string): Edit[] | undefined {
  const ins = run.instruction;
  const c = ins.command;
  if (!c || c.form !== 'shell' || !run.editable || run.script.unterminated || !posixShell(c.shell)) return undefined;
  const cmds = run.script.commands;
  const lastCmd = cmds[cmds.length - 1];
  if (!lastCmd || (lastCmd.after !== undefined && lastCmd.after !== '\n')) return undefined;
  if (c.script.slice(lastCmd.end).trim() !== '') return undefined;
  if (run.script.comments.some((k) => k.end > lastCmd.end)) return undefined;
  if (run.script.operators.some((o) => o.start >= lastCmd.end)) return undefined;
  const at = facts.offset(ins, lastCmd.end - 1);
  if (at === undefined) return undefined;
  const multiLine = ins.span.end.line > ins.span.start.line;
  let text = ` && ${command}`;
  if (multiLine) {
    const lastLine = facts.src.line(ins.span.end.line);
    const indent = /^\s*/.exec(lastLine)![0] || '    ';
    text = ` ${facts.dockerfile.escape}\n${indent}&& ${command}`;
  }
  return [{ start: at + 1, end: at + 1, text }];
}

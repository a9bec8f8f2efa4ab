import { parseDockerfile } from '../dockerfile/parse.js';

/**
 * What attribution needs from a Dockerfile: instructions with their keyword, arguments and lines,
 * grouped into stages; read through the project's Dockerfile model (src/dockerfile/).
 */
export interface DockerfileInstruction {
  keyword: string;
  /** Arguments without flags, line continuations joined. */
  args: string;
  /** 1-based first and last line. */
  line: number;
  endLine: number;
}

export interface DockerfileStage {
  index: number;
  /** The `AS name`, lowercased, when given. */
  name: string | undefined;
  /** The image or stage after FROM. */
  base: string;
  line: number;
  /** Instructions after FROM, in order. */
  instructions: DockerfileInstruction[];
}

export function readDockerfileStages(text: string): DockerfileStage[] {
  const df = parseDockerfile(text);
  // Spans end exclusively: an instruction ending at a line break ends on the line before.
  const lastLine = (span: { start: { line: number }; end: { line: number; column: number } }) =>
    span.end.column === 1 && span.end.line > span.start.line ? span.end.line - 1 : span.end.line;
  return df.stages.map((st) => ({
    index: st.index,
    name: st.name,
    base: st.base.raw,
    line: st.from.span.start.line,
    instructions: st.instructions.map((ins) => ({ keyword: ins.keyword, args: ins.args.trim(), line: ins.span.start.line, endLine: lastLine(ins.span) })),
  }));
}

import { DockerfileParser } from 'dockerfile-ast';

/**
 * The only file that talks to the Dockerfile parser. Attribution needs instructions with their
 * keyword, arguments and lines, grouped into stages; when the project's own parser (src/dockerfile/)
 * lands, this adapter is the one place to swap.
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
  const df = DockerfileParser.parse(text);
  const stages: DockerfileStage[] = [];
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const range = ins.getRange();
    const args = (ins.getArgumentsContent() ?? '').trim();
    if (keyword === 'FROM') {
      const words = ins.getArguments().map((a) => a.getValue());
      const asAt = words.findIndex((w) => w.toLowerCase() === 'as');
      stages.push({ index: stages.length, name: asAt >= 0 ? words[asAt + 1]?.toLowerCase() : undefined, base: words[0] ?? '', line: range.start.line + 1, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) continue; // ARG before the first FROM belongs to no stage
    stage.instructions.push({ keyword, args, line: range.start.line + 1, endLine: range.end.line + 1 });
  }
  return stages;
}

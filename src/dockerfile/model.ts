/**
 * The typed Dockerfile model: what `parseDockerfile` returns. Plain data, no methods, so rules and the
 * `plan` feature can walk it freely. Lines and columns are 1-based; `offset` is a 0-based index into
 * the Dockerfile text (UTF-16 code units, like JavaScript strings and SARIF's default column kind).
 */
import type { DockerName } from '../transports/reference.js';

export interface Position {
  line: number;
  column: number;
  offset: number;
}

/** A span of the Dockerfile text; `end` is exclusive. */
export interface Span {
  start: Position;
  end: Position;
}

/** A `--name=value` flag of an instruction (FROM --platform, RUN --mount, COPY --from/--chown/--link...). */
export interface Flag {
  name: string;
  /** null when the flag has no `=value` at all. */
  value: string | null;
  /** Comma-separated `key=value` options of the value (RUN --mount=type=cache,target=/x); a bare key maps to ''. */
  options: Readonly<Record<string, string>>;
  span: Span;
}

export interface Heredoc {
  /** The delimiter word, EOF in `<<EOF`. */
  name: string;
  /** `<<-` strips leading tabs from the body. */
  stripTabs: boolean;
  /** The body without the delimiter line. */
  content: string;
  /** Where the body starts in the Dockerfile text (offset of its first character). */
  contentOffset: number;
}

/** A variable definition of ARG or ENV. */
export interface VariableDefinition {
  name: string;
  /** The value as written (quotes removed); undefined for `ARG NAME` without a default. */
  value: string | undefined;
  /** The value after variable substitution in the scope of the instruction. */
  resolved: string | undefined;
  span: Span;
}

/** The variables visible to an instruction: its name -> value (undefined: declared without a value). */
export type VariableScope = ReadonlyMap<string, { value: string | undefined; kind: 'arg' | 'env' | 'build-arg' }>;

/** How a RUN (or HEALTHCHECK CMD / CMD / ENTRYPOINT) command is written. */
export type CommandForm = 'shell' | 'exec' | 'heredoc';

export interface RunCommand {
  form: CommandForm;
  /**
   * The shell script (shell and heredoc forms), with Dockerfile line continuations joined and comment
   * lines removed, exactly as the shell will receive it. For the exec form, the argv joined by spaces.
   */
  script: string;
  /** Exec form only: the JSON array. */
  argv: readonly string[] | undefined;
  /**
   * For each index of `script` (and one past its end), the offset of that character in the Dockerfile
   * text; undefined when the script is not a contiguous rewrite of the source (exec form).
   */
  sourceOffsets: readonly number[] | undefined;
  /** The SHELL in effect: ["/bin/sh", "-c"] unless a SHELL instruction changed it. */
  shell: readonly string[];
}

export type BaseImageKind = 'image' | 'stage' | 'scratch' | 'unresolved';

export interface BaseImage {
  /** The image text as written after FROM (before variable substitution). */
  raw: string;
  /** After ARG substitution; equal to `raw` when nothing needed substituting. */
  resolved: string;
  kind: BaseImageKind;
  /** kind 'image': the parsed name (registry, repository, tag, digest). */
  name: DockerName | undefined;
  /** kind 'stage': the index of the earlier stage this one builds on. */
  stage: number | undefined;
  /** kind 'unresolved': the variables that had no value; or the reason the name did not parse. */
  problem: string | undefined;
  /** The --platform flag value, resolved. */
  platform: string | undefined;
  span: Span;
}

/** One COPY or ADD. */
export interface CopySpec {
  /** Sources after variable substitution (quotes removed). */
  sources: readonly string[];
  destination: string;
  /** --from=STAGE|IMAGE: sources come from there, not from the build context. */
  from: string | undefined;
  /** When --from names a stage of this Dockerfile (by name or index). */
  fromStage: number | undefined;
  /** Sources are inline heredocs (COPY <<EOF /dst). */
  heredoc: boolean;
}

export interface Instruction {
  /** Upper-case keyword: RUN, COPY, ... (an unknown keyword is kept as written, upper-cased). */
  keyword: string;
  /** Index of the stage it belongs to; -1 for global ARGs before the first FROM. */
  stage: number;
  /** Index in `Dockerfile.instructions`. */
  index: number;
  span: Span;
  /** The whole instruction as written, keyword and continuation lines included. */
  text: string;
  /** The arguments (flags removed) with continuations joined and comment lines removed. */
  args: string;
  /** Where `args` starts in the Dockerfile text; undefined when there are no arguments. */
  argsOffset: number | undefined;
  flags: readonly Flag[];
  heredocs: readonly Heredoc[];
  /** Variables visible to this instruction (for FROM: the global ARGs). */
  scope: VariableScope;
  /**
   * The working directory the instruction runs in, after earlier WORKDIRs of its stage (and of the
   * stage it builds on). '/' when none was set here; a base image's own WORKDIR is not known.
   */
  workdir: string;
  /** Comment lines directly above the instruction (text after '#', trimmed), nearest last. */
  comments: readonly string[];
  /** RUN (and CMD/ENTRYPOINT/HEALTHCHECK CMD): the command. */
  command?: RunCommand;
  /** COPY and ADD. */
  copy?: CopySpec;
  /** ARG and ENV. */
  variables?: readonly VariableDefinition[];
  /** FROM. */
  base?: BaseImage;
  /** USER: the user (and group) after substitution. */
  user?: string;
  /** ONBUILD: the trigger instruction's keyword. */
  trigger?: string;
}

export interface Stage {
  index: number;
  /** The `AS name`, lower-cased as Docker compares it. */
  name: string | undefined;
  from: Instruction;
  base: BaseImage;
  /** The instructions after FROM, up to the next FROM. */
  instructions: readonly Instruction[];
}

export interface ParserDirective {
  name: string;
  value: string;
  line: number;
}

export interface DockerfileProblem {
  message: string;
  span: Span;
}

export interface Dockerfile {
  /** The path it was read from, when known (for messages). */
  path: string | undefined;
  text: string;
  escape: string;
  directives: readonly ParserDirective[];
  /** ARGs before the first FROM. */
  globalArgs: readonly Instruction[];
  stages: readonly Stage[];
  /** Every instruction in file order. */
  instructions: readonly Instruction[];
  /** Every comment line: 1-based line and the text after '#'. */
  comments: readonly { line: number; text: string }[];
  /** Syntax problems Docker would refuse or warn about (no FROM, unknown instruction, bad JSON...). */
  problems: readonly DockerfileProblem[];
}

// The Dockerfile model: parse a Dockerfile into stages and typed instructions, resolve ARG/ENV, read RUN scripts.
export * from './model.js';
export { parseDockerfile, joinContinuations, KEYWORDS, type ParseOptions } from './parse.js';
export { expandWord, substitute, splitWords, hasVariables, PLATFORM_ARGS, type Lookup, type Expansion } from './variables.js';
export { parseShell, argvOf, type ShellScript, type ShellWord, type SimpleCommand, type Redirect, type ControlOperator } from './shell.js';
export { recogniseCommand, recogniseScript, allCommands, hasOption, optionValues, type Tool, type ToolInvocation, type ToolOption } from './commands.js';
export { classifyBase } from './image.js';
export { SourceText } from './source.js';

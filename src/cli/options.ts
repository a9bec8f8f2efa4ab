import type { Command } from 'commander';
import { parsePlatform, type Platform } from '../model/descriptor.js';
import { LayerwiseError } from '../errors.js';
import type { Compression } from '../model/media-types.js';
import type { OpenOptions, RegistryOptions, WriteOptions } from '../transports/index.js';
import { StderrProgress } from './progress.js';

/** Options every command that reads images accepts. */
export function imageOptions(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]>', 'platform to choose from a multi-platform image (default: linux/<this machine>)')
    .option('--creds <user:password>', 'registry credentials (docker:// references)')
    .option('--insecure', 'allow plain HTTP and unverified TLS for registries (loopback testing)')
    .option('--ca-file <path>', 'extra CA certificate for registries')
    .option('--authfile <path>', 'docker config.json with registry credentials (default ~/.docker/config.json)');
}

export interface CommonFlags {
  platform?: string;
  creds?: string;
  insecure?: boolean;
  caFile?: string;
  authfile?: string;
  json?: boolean;
  quiet?: boolean;
  destCompress?: string;
  parallel?: string;
}

export function registryOptions(f: CommonFlags, progress?: StderrProgress): RegistryOptions {
  return {
    ...(f.creds ? { creds: f.creds } : {}),
    ...(f.insecure ? { insecure: true } : {}),
    ...(f.caFile ? { caFile: f.caFile } : {}),
    ...(f.authfile ? { authFile: f.authfile } : {}),
    ...(f.parallel !== undefined ? { parallel: Number(f.parallel) } : {}),
    ...(progress ? { progress } : {}),
  };
}

export function openOptions(f: CommonFlags, progress?: StderrProgress): OpenOptions {
  const platform: Platform | undefined = f.platform ? parsePlatform(f.platform) : undefined;
  return { ...(platform ? { platform } : {}), registry: registryOptions(f, progress) };
}

export function parseCompression(text: string | undefined): Compression | undefined {
  if (text === undefined) return undefined;
  if (text === 'gzip' || text === 'zstd' || text === 'none') return text;
  throw new LayerwiseError('USAGE', `--dest-compress ${text}: use gzip, zstd or none`);
}

export function writeOptions(f: CommonFlags, progress?: StderrProgress): WriteOptions {
  const compression = parseCompression(f.destCompress);
  return { ...(compression ? { compression } : {}), registry: registryOptions(f, progress), ...(progress ? { progress } : {}) };
}

export function progressFor(f: CommonFlags): StderrProgress {
  return new StderrProgress(!!f.quiet || !!f.json);
}

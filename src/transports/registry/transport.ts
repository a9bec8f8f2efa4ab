// The docker:// transport: plugs the registry client into openImage/writeImage.
import { setRegistryTransport, type RegistryOptions } from '../index.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { openRegistryImage } from './pull.js';
import { pushImage } from './push.js';

/** Maps the transport-level options (CLI flags) to client settings. */
export function clientOptions(o: RegistryOptions = {}): RegistryClientOptions {
  return {
    ...(o.creds !== undefined ? { creds: o.creds } : {}),
    ...(o.insecure ? { insecure: true } : {}),
    ...(o.caFile ? { caFile: o.caFile } : {}),
    ...(o.authFile ? { authFile: o.authFile } : {}),
    ...(o.retries !== undefined || o.retryDelayMs !== undefined
      ? { retry: { ...(o.retries !== undefined ? { retries: o.retries } : {}), ...(o.retryDelayMs !== undefined ? { baseDelayMs: o.retryDelayMs } : {}) } }
      : {}),
    ...(o.timeoutMs !== undefined ? { idleTimeoutMs: o.timeoutMs } : {}),
    ...(o.chunkThreshold !== undefined ? { chunkThreshold: o.chunkThreshold } : {}),
    ...(o.chunkSize !== undefined ? { chunkSize: o.chunkSize } : {}),
  };
}

export function insecureWarning(registry: string): string {
  return `warning: ${registry} is not loopback and --insecure allows plain HTTP and unverified TLS to it`;
}

setRegistryTransport({
  async open(ref, opts) {
    const client = await RegistryClient.create(ref.registry, clientOptions(opts.registry));
    if (client.insecureRemote) opts.registry?.progress?.note(insecureWarning(client.registry));
    try {
      return await openRegistryImage(client, ref, { platform: opts.platform });
    } catch (err) {
      client.close();
      throw err;
    }
  },
  async write(image, ref, opts) {
    const client = await RegistryClient.create(ref.registry, clientOptions(opts.registry));
    try {
      return await pushImage(client, image, ref, {
        compression: opts.compression,
        ...(opts.layerCompression ? { layerCompression: opts.layerCompression } : {}),
        parallel: opts.registry?.parallel,
        progress: opts.progress ?? opts.registry?.progress,
      });
    } finally {
      client.close();
    }
  },
});

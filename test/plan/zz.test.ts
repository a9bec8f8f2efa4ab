import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { startEngine, loadBusybox } from '../support/engine.js';
it('history', async () => {
  const e = await startEngine('plz');
  try {
    await loadBusybox(e);
    writeFileSync('/tmp/plan-scratch/ctx/a.txt', 'hello\n');
    writeFileSync('/tmp/plan-scratch/ctx/Dockerfile', `ARG G=1
FROM lwtest/busybox:1
ARG V=2
LABEL a=b
ENV X=1 Y=2
WORKDIR /app
WORKDIR /app
COPY a.txt .
ADD a.txt /b.txt
RUN echo $V > /v.txt
RUN true
RUN ["/bin/sh", "-c", "echo exec > /e.txt"]
USER nobody
EXPOSE 80
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK CMD true
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["sh"]
CMD ["-c", "true"]
`);
    const t0 = Date.now();
    const r = await e.docker(['build', '-q', '-t', 'h:1', '/tmp/plan-scratch/ctx']);
    process.stdout.write(`build ${Date.now() - t0}ms ${r.code} ${r.stderr}\n`);
    const h = await e.docker(['image', 'inspect', 'h:1', '--format', '{{json .RootFS.Layers}}']);
    process.stdout.write(h.stdout);
    const { stdout } = await e.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}} | {{.Size}}', 'h:1']);
    process.stdout.write(stdout);
  } finally { await e.stop(); }
}, 300000);

/** Lint and --fix never throw on arbitrary Dockerfiles, and fixing keeps the Dockerfile's structure. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDockerfile } from '../dockerfile/parse.js';
import { lint } from './engine.js';
import { fixDockerfile } from './fix.js';

const line = fc.constantFrom(
  'FROM python:3.12 AS build',
  'FROM build',
  'FROM ${BASE}',
  'FROM scratch',
  'ARG BASE=alpine:3.20',
  'ARG GIT_COMMIT',
  'ENV PIP_NO_CACHE_DIR=1 API_TOKEN=x',
  'WORKDIR app',
  'USER root',
  'COPY . .',
  'COPY --from=build /a /b',
  'COPY requirements.txt ./',
  'ADD x /y',
  'RUN apt-get update',
  'RUN apt-get install -y gcc && pip install flask',
  'RUN apk add curl',
  'RUN pip install -r requirements.txt',
  'RUN npm install && yarn',
  'RUN dnf install -y git',
  'RUN cd /x && make',
  'RUN set -e; make || true',
  'RUN echo "unterminated',
  'RUN a \\',
  '    && b',
  'RUN <<EOF',
  'apt-get update',
  'EOF',
  'RUN ["pip", "install", "x"]',
  'RUN --mount=type=cache,target=/root/.cache pip install x',
  '# layerwise ignore=LW205',
  '# comment',
  '',
  'EXPOSE 80',
  'HEALTHCHECK CMD true',
  'MAINTAINER x',
  'ONBUILD RUN x',
  'BOGUS',
  'RUN go install a/b@latest',
);

describe('robustness', () => {
  it('lint and --fix never throw, and fixes keep stages and non-RUN instructions', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), (lines) => {
        const text = lines.join('\n') + '\n';
        const before = parseDockerfile(text);
        lint({ dockerfile: before, file: 'Dockerfile' });
        const r = fixDockerfile(text);
        const after = parseDockerfile(r.text);
        expect(after.stages.length).toBe(before.stages.length);
        expect(after.instructions.filter((i) => i.keyword !== 'RUN').map((i) => i.text)).toEqual(before.instructions.filter((i) => i.keyword !== 'RUN').map((i) => i.text));
        expect(after.problems.length).toBeLessThanOrEqual(before.problems.length);
        const again = lint({ dockerfile: after, file: 'Dockerfile' });
        expect(again.findings.filter((f) => f.fixable)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });
});

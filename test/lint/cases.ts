/** The bad/good example pair of every rule, shared by the rule tests and the --fix tests. */
import type { LintConfig } from '../../src/lint/types.js';
import type { ContextFiles } from './helpers.js';

const D = '@sha256:' + 'a'.repeat(64);
const lines = (...l: string[]) => l.join('\n') + '\n';

export interface Example {
  df: string;
  files?: ContextFiles;
}
export interface Case {
  bad: Example;
  /** Lines the rule reports on the bad example ('-' for a finding without a Dockerfile line, 'file:line' for another file). */
  at: (number | string)[];
  good: Example;
  config?: Partial<LintConfig>;
}

export const CASES: Record<string, Case> = {
  LW001: { bad: { df: lines('FROM alpine:3.20', 'FORM alpine') }, at: [2], good: { df: lines('FROM alpine:3.20', 'RUN true') } },
  LW101: { bad: { df: lines('FROM python') }, at: [1], good: { df: lines('FROM python:3.12-slim') } },
  LW102: { bad: { df: lines('FROM node:latest') }, at: [1], good: { df: lines('FROM node:20-bookworm-slim') } },
  LW103: { bad: { df: lines('FROM alpine:3.20 AS a', 'FROM a') }, at: [1], good: { df: lines(`FROM alpine:3.20${D} AS a`, 'FROM a') } },
  LW104: {
    bad: { df: lines(`FROM docker.io/library/alpine:3.20${D}`, `FROM quay.io/acme/tools:1${D}`) },
    at: [1, 2],
    good: { df: lines(`FROM ghcr.io/acme/alpine:3.20${D}`) },
    config: { trustedRegistries: ['ghcr.io'] },
  },
  LW105: {
    bad: { df: lines('FROM python:3.12-bookworm', 'CMD ["python"]') },
    at: [1],
    good: { df: lines('FROM python:3.12 AS build', 'RUN pip wheel --no-cache-dir -w /w psycopg2==2.9.9', 'FROM python:3.12-slim-bookworm', 'COPY --from=build /w /w') },
  },
  LW106: { bad: { df: lines('ARG BASE', 'FROM ${BASE}') }, at: [2], good: { df: lines('ARG BASE=alpine:3.20', 'FROM ${BASE}') } },
  LW201: {
    bad: { df: lines('FROM debian:12', 'RUN apt-get update', 'RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*') },
    at: [2],
    good: { df: lines('FROM debian:12', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*') },
  },
  LW202: {
    bad: { df: lines('FROM debian:12', 'RUN apt-get update \\', '  && DEBIAN_FRONTEND=noninteractive apt-get -qy install curl \\', '  && rm -rf /var/lib/apt/lists/*') },
    at: [3],
    good: { df: lines('FROM debian:12', 'RUN apt-get update \\', '  && DEBIAN_FRONTEND=noninteractive apt-get -qy install --no-install-recommends curl \\', '  && rm -rf /var/lib/apt/lists/*') },
  },
  LW203: {
    bad: { df: lines('FROM debian:12', 'RUN apt-get update && apt-get install -y --no-install-recommends curl') },
    at: [2],
    good: {
      df: lines(
        '# syntax=docker/dockerfile:1',
        'FROM debian:12',
        'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*',
        'RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends jq',
      ),
    },
  },
  LW204: {
    bad: { df: lines('FROM alpine:3.20', 'RUN apk add curl', 'RUN apk update && apk add --no-cache jq') },
    at: [2, 3],
    good: { df: lines('FROM alpine:3.20', 'RUN apk add --no-cache curl', 'RUN apk update && apk add --no-cache jq && rm -rf /var/cache/apk/*') },
  },
  LW205: {
    bad: { df: lines('FROM python:3.12-slim', 'RUN pip install --upgrade pip==24.0', 'RUN python3 -m pip install -r requirements.txt') },
    at: [2, 3],
    good: {
      df: lines('FROM python:3.12-slim', 'ENV PIP_NO_CACHE_DIR=1', 'RUN pip install --upgrade pip==24.0', 'RUN --mount=type=cache,target=/root/.cache python3 -m pip install -r requirements.txt', 'RUN pip3 install --no-cache-dir six==1.16.0'),
    },
  },
  LW206: {
    bad: { df: lines('FROM node:20-slim', 'RUN npm install', 'RUN yarn install', 'RUN pnpm i') },
    at: [2, 3, 4],
    good: { df: lines('FROM node:20-slim', 'RUN npm ci --omit=dev', 'RUN yarn install --frozen-lockfile', 'RUN pnpm install --frozen-lockfile', 'RUN npm install -g typescript@5.4.5') },
  },
  LW207: {
    bad: { df: lines('FROM fedora:40', 'RUN dnf install -y --setopt=install_weak_deps=False git', 'FROM rockylinux:9', 'RUN yum -y update') },
    at: [4],
    good: { df: lines('FROM rockylinux:9', 'RUN yum -y update && yum clean all', 'RUN dnf install -y git && rm -rf /var/cache/dnf') },
  },
  LW208: {
    bad: { df: lines('FROM debian:12', 'RUN apt-get update && apt-get install -y --no-install-recommends curl', 'RUN apt-get clean && rm -rf /var/lib/apt/lists/*') },
    at: [3],
    good: { df: lines('FROM debian:12', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && apt-get clean && rm -rf /var/lib/apt/lists/*', 'COPY nginx.conf /etc/nginx/', 'RUN rm /etc/nginx/conf.d/default.conf') },
  },
  LW209: {
    bad: { df: lines('FROM node:20-slim', 'RUN npm ci --omit=dev', 'RUN yarn install --frozen-lockfile') },
    at: [2, 3],
    good: { df: lines('FROM node:20-slim', 'RUN npm ci --omit=dev && npm cache clean --force', 'RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install --frozen-lockfile') },
  },
  LW301: {
    bad: { df: lines('FROM alpine:3.20', 'RUN adduser -D app', 'RUN mkdir /data', 'RUN chown app /data') },
    at: [3, 4],
    good: { df: lines('FROM alpine:3.20', 'RUN adduser -D app && mkdir /data && chown app /data', 'COPY a /a', 'RUN --mount=type=cache,target=/root/.cache true') },
  },
  LW302: {
    bad: { df: lines('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-cache-dir -r requirements.txt'), files: { 'requirements.txt': 'flask==3.0.3\n' } },
    at: [3],
    good: {
      df: lines('FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt', 'COPY . .', 'RUN pip install --no-cache-dir --no-deps .'),
      files: { 'requirements.txt': 'flask==3.0.3\n' },
    },
  },
  LW303: {
    bad: { df: lines('FROM debian:12', 'COPY . /src', 'RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*') },
    at: [3],
    good: { df: lines('FROM debian:12', 'RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*', 'COPY . /src') },
  },
  LW304: {
    bad: { df: lines('FROM debian:12', 'ARG GIT_COMMIT', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*') },
    at: [2],
    good: { df: lines('FROM debian:12', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*', 'ARG GIT_COMMIT', 'LABEL org.opencontainers.image.revision=$GIT_COMMIT') },
  },
  LW401: {
    bad: { df: lines('FROM alpine:3.20 AS base', 'USER nobody', 'FROM base', 'USER root') },
    at: [4],
    good: { df: lines('FROM alpine:3.20 AS base', 'USER nobody', 'FROM base', 'RUN true', 'FROM gcr.io/distroless/static-debian12:nonroot AS final') },
  },
  LW402: {
    bad: { df: lines('FROM python:3.12-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev && rm -rf /var/lib/apt/lists/*') },
    at: [2],
    good: {
      df: lines(
        'FROM python:3.12-slim AS build',
        'RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev',
        'FROM python:3.12-slim',
        'RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*',
        'FROM alpine:3.20',
        'RUN apk add --no-cache --virtual .build-deps gcc musl-dev && pip install x==1 && apk del .build-deps',
      ),
    },
  },
  LW403: {
    bad: { df: lines('FROM golang:1.22', 'RUN go build -o /app .') },
    at: [1],
    good: { df: lines('FROM golang:1.22 AS build', 'RUN go build -o /app .', 'FROM gcr.io/distroless/static-debian12:nonroot', 'COPY --from=build /app /app') },
  },
  LW404: {
    bad: { df: lines('FROM alpine:3.20', 'ADD app.py config/ /app/') },
    at: [2],
    good: { df: lines('FROM alpine:3.20', 'COPY app.py config/ /app/', 'ADD vendor.tar.gz /opt/', 'ADD https://example.com/x.tgz /tmp/') },
  },
  LW405: {
    bad: { df: lines('FROM alpine:3.20', 'ENV DB_HOST=db DB_PASSWORD=hunter2', 'ENV STRIPE_API_KEY sk_live_123') },
    at: [2, 3],
    good: { df: lines('FROM alpine:3.20', 'ENV DB_HOST=db DB_PASSWORD_FILE=/run/secrets/db_password', 'ENV GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305') },
  },
  LW406: {
    bad: { df: lines('FROM node:20-slim', 'ARG NPM_TOKEN', 'RUN echo "//registry.npmjs.org/:_authToken=$NPM_TOKEN" > .npmrc && npm ci') },
    at: [2],
    good: { df: lines('# syntax=docker/dockerfile:1', 'FROM node:20-slim', 'RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci') },
  },
  LW407: {
    bad: { df: lines('FROM nginx:1.27-alpine', 'EXPOSE 80', 'EXPOSE 443') },
    at: [3],
    good: { df: lines('FROM nginx:1.27-alpine', 'EXPOSE 80', 'HEALTHCHECK CMD wget -qO- http://localhost/ || exit 1') },
  },
  LW408: { bad: { df: lines('FROM alpine:3.20', 'MAINTAINER Jane <jane@example.com>') }, at: [2], good: { df: lines('FROM alpine:3.20', 'LABEL org.opencontainers.image.authors="Jane <jane@example.com>"') } },
  LW409: { bad: { df: lines('FROM alpine:3.20', 'WORKDIR /srv', 'WORKDIR app') }, at: [3], good: { df: lines('FROM alpine:3.20', 'ARG DIR=/srv/app', 'WORKDIR $DIR') } },
  LW501: {
    bad: { df: lines('FROM alpine:3.20', 'COPY app /app'), files: { 'app/main.sh': 'echo hi\n', '.git/HEAD': 'ref: refs/heads/main\n', '.git/objects/pack/p.pack': 50_000 } },
    at: ['-'],
    good: { df: lines('FROM alpine:3.20', 'COPY app /app'), files: { 'app/main.sh': 'echo hi\n', '.git/HEAD': 'ref\n', '.dockerignore': '.git\n' } },
  },
  LW502: {
    bad: { df: lines('FROM node:20-slim', 'WORKDIR /app', 'COPY . .'), files: { 'index.js': '1', 'node_modules/x/index.js': 'x', 'server.log': 'boot\n', '.dockerignore': '.git\n' } },
    at: [3, 3],
    good: { df: lines('FROM node:20-slim', 'WORKDIR /app', 'COPY . .'), files: { 'index.js': '1', 'node_modules/x/index.js': 'x', 'server.log': 'boot\n', '.dockerignore': '.git\nnode_modules\n*.log\n' } },
  },
  LW503: {
    bad: { df: lines('FROM python:3.12-slim', 'COPY src/ /app/'), files: { 'src/app.py': 'print(1)\n', 'models/model.safetensors': 2000, '.idea/workspace.xml': '<x/>', '.dockerignore': '.git\n' } },
    at: ['-', '-'],
    good: { df: lines('FROM python:3.12-slim', 'COPY src/ /app/', 'COPY models/model.safetensors /models/'), files: { 'src/app.py': 'print(1)\n', 'models/model.safetensors': 2000, '.idea/workspace.xml': '<x/>', '.dockerignore': '.idea/\n' } },
  },
  LW504: {
    bad: { df: lines('FROM python:3.12-slim', 'COPY . /app'), files: { 'app.py': '1', '.env': 'DB_PASSWORD=x\n', '.dockerignore': '.git\n' } },
    at: [2],
    good: { df: lines('FROM python:3.12-slim', 'COPY . /app'), files: { 'app.py': '1', '.env': 'DB_PASSWORD=x\n', '.env.example': 'DB_PASSWORD=\n', '.dockerignore': '.git\n.env\n' } },
  },
  LW601: {
    bad: { df: lines('FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements/ ./req/', 'RUN pip install --no-cache-dir -r req/prod.txt'), files: { 'requirements/prod.txt': '-r base.txt\ngunicorn==22.0.0\n', 'requirements/base.txt': '# web\nflask>=3\nrequests\n' } },
    at: ['2:requirements/base.txt'],
    good: {
      df: lines('FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements/ ./req/', 'RUN pip install --no-cache-dir -r req/prod.txt -c req/constraints.txt'),
      files: { 'requirements/prod.txt': 'flask>=3\n', 'requirements/constraints.txt': 'flask==3.0.3\nwerkzeug==3.0.3\n' },
    },
  },
  LW602: {
    bad: { df: lines('FROM python:3.12-slim', 'COPY requirements.txt /tmp/', 'RUN pip install --no-cache-dir -r /tmp/requirements.txt'), files: { 'requirements.txt': 'flask==3.0.3\ngunicorn==22.0.0\n' } },
    at: ['-:requirements.txt'],
    good: {
      df: lines('FROM python:3.12-slim', 'COPY requirements.txt /tmp/', 'RUN pip install --no-cache-dir -r /tmp/requirements.txt'),
      files: { 'requirements.txt': '#\n# This file is autogenerated by pip-compile with Python 3.12\n#\nblinker==1.8.2\n    # via flask\nflask==3.0.3\n    # via -r requirements.in\n' },
    },
  },
  LW603: {
    bad: { df: lines('FROM python:3.12-slim', 'RUN pip install --no-cache-dir flask "gunicorn>=22" && npm install -g typescript && gem install bundler') },
    at: [2, 2, 2],
    good: { df: lines('FROM python:3.12-slim', 'RUN pip install --no-cache-dir flask==3.0.3 "gunicorn==22.0.0" && npm install -g typescript@5.4.5 && gem install bundler -v 2.5.9 && pip install --no-cache-dir .') },
  },
  LW604: {
    bad: { df: lines('FROM golang:1.22 AS tools', 'RUN go install golang.org/x/tools/cmd/goimports@latest github.com/a/b@main') },
    at: [2, 2],
    good: { df: lines('FROM golang:1.22 AS tools', 'RUN go install golang.org/x/tools/cmd/goimports@v0.24.0') },
  },
  LW605: {
    bad: { df: lines('FROM node:20-slim', 'WORKDIR /app', 'COPY package.json ./', 'RUN npm ci'), files: { 'package.json': '{"name":"a"}', 'package-lock.json': '{}', 'sub/Gemfile': 'gem "rails"\n' } },
    at: [4],
    good: { df: lines('FROM node:20-slim', 'WORKDIR /app', 'COPY package.json package-lock.json ./', 'RUN npm ci'), files: { 'package.json': '{"name":"a"}', 'package-lock.json': '{}' } },
  },
};


// Seeds a namespace with realistic Helm charts through the OCI API, the way `helm push` lays
// them out: config blob (Chart.yaml as JSON), chart layer (.tgz), OCI manifest. Everything is
// derived from the chart's index, so the same (index, version) always gives the same bytes and
// digests: a benchmark can re-derive what it pushed instead of remembering 50,000 digests, and a
// search benchmark can know which words occur where (see `chartSpec`).
import { gzipSync } from 'node:zlib';
import { createClient, sha256, type OciClient } from './oci-client.js';

export const helmMediaTypes = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
} as const;

// ---------------------------------------------------------------------------------------------
// Words

export const adjectives = [
  'amber', 'arctic', 'azure', 'bold', 'brisk', 'bright', 'calm', 'cedar', 'cobalt', 'coral',
  'crimson', 'crystal', 'dusty', 'ember', 'fluent', 'frosty', 'gentle', 'golden', 'granite', 'hidden',
  'hollow', 'indigo', 'ivory', 'jade', 'keen', 'lunar', 'misty', 'nimble', 'noble', 'onyx',
  'pale', 'quiet', 'rapid', 'rustic', 'sable', 'silent', 'silver', 'solar', 'steady', 'swift',
  'tidal', 'velvet', 'vivid', 'wild', 'zephyr',
] as const;

export const nouns = [
  'gateway', 'proxy', 'cache', 'broker', 'queue', 'ledger', 'vault', 'beacon', 'harbor', 'relay',
  'scheduler', 'collector', 'exporter', 'operator', 'registry', 'indexer', 'crawler', 'mailer', 'notifier', 'router',
  'balancer', 'resolver', 'tracer', 'profiler', 'monitor', 'dashboard', 'portal', 'wiki', 'tracker', 'builder',
  'runner', 'worker', 'pipeline', 'stream', 'lake', 'warehouse', 'search', 'store', 'keeper', 'sentinel',
  'auditor', 'signer', 'mirror', 'bridge', 'tunnel', 'mesh', 'agent', 'daemon', 'controller', 'webhook',
  'api', 'frontend', 'backend', 'console', 'scanner', 'archiver', 'uploader', 'renderer', 'translator', 'compiler',
] as const;

/** Chart keywords: what a search benchmark would type. */
export const topics = [
  'kubernetes', 'postgresql', 'mysql', 'redis', 'kafka', 'rabbitmq', 'nats', 'elasticsearch', 'opensearch', 'prometheus',
  'grafana', 'loki', 'tempo', 'jaeger', 'opentelemetry', 'nginx', 'envoy', 'traefik', 'istio', 'linkerd',
  'cert-manager', 'vault', 'keycloak', 'oauth2', 'ldap', 'minio', 's3', 'backup', 'restore', 'etcd',
  'ci', 'cd', 'gitops', 'argo', 'flux', 'tekton', 'jenkins', 'sonarqube', 'nexus', 'artifactory',
  'monitoring', 'logging', 'tracing', 'metrics', 'alerting', 'security', 'networking', 'storage', 'database', 'messaging',
  'machine-learning', 'jupyter', 'spark', 'airflow', 'dagster', 'clickhouse', 'cassandra', 'mongodb', 'memcached', 'varnish',
  'wordpress', 'drupal', 'ghost', 'mattermost', 'gitea', 'harbor', 'dex', 'opa', 'kyverno', 'falco',
] as const;

const features = [
  'horizontal pod autoscaling', 'TLS termination', 'zero-downtime rollouts', 'Prometheus metrics', 'structured JSON logs',
  'pluggable authentication', 'multi-tenant isolation', 'read replicas', 'point-in-time recovery', 'rate limiting',
  'circuit breaking', 'distributed tracing', 'webhook notifications', 'role-based access control', 'network policies',
  'pod disruption budgets', 'sidecar injection', 'persistent volumes', 'scheduled backups', 'canary releases',
  'OIDC single sign-on', 'audit logging', 'schema migrations', 'a web UI', 'a command-line client',
] as const;

const firstNames = [
  'Ada', 'Alan', 'Barbara', 'Brian', 'Chen', 'Dana', 'Edsger', 'Fatima', 'Grace', 'Hedy',
  'Ines', 'Jonas', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Olga', 'Priya', 'Radia', 'Sofia',
  'Tim', 'Uma', 'Vint', 'Wei', 'Xavier', 'Yuki', 'Zoe',
] as const;

const lastNames = [
  'Lovelace', 'Turing', 'Liskov', 'Kernighan', 'Wang', 'Scott', 'Dijkstra', 'Khan', 'Hopper', 'Lamarr',
  'Garcia', 'Berg', 'Thompson', 'Lamport', 'Hamilton', 'Wirth', 'Petrova', 'Nair', 'Perlman', 'Rossi',
  'Berners', 'Rao', 'Cerf', 'Zhang', 'Leroy', 'Sato', 'Meyer',
] as const;

const orgs = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'aperture'] as const;

const prose = [
  'the', 'chart', 'deploys', 'a', 'service', 'with', 'sensible', 'defaults', 'for', 'production',
  'clusters', 'and', 'can', 'be', 'tuned', 'through', 'values', 'every', 'setting', 'is',
  'documented', 'below', 'resources', 'requests', 'limits', 'replicas', 'ingress', 'probes', 'secrets', 'config',
  'upgrade', 'notes', 'when', 'moving', 'between', 'major', 'versions', 'read', 'changelog', 'first',
  'persistence', 'is', 'enabled', 'by', 'default', 'storage', 'class', 'of', 'cluster', 'used',
] as const;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: small, fast, good enough to vary test data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function pickDistinct<T>(rand: () => number, list: readonly T[], count: number): T[] {
  const chosen = new Set<T>();
  while (chosen.size < Math.min(count, list.length)) chosen.add(pick(rand, list));
  return [...chosen];
}

function between(rand: () => number, low: number, high: number): number {
  return low + Math.floor(rand() * (high - low + 1));
}

// ---------------------------------------------------------------------------------------------
// Chart descriptions

export interface Maintainer {
  name: string;
  email: string;
  url?: string;
}

export interface Dependency {
  name: string;
  version: string;
  repository: string;
  condition: string;
}

/** Everything about a chart that does not change between its versions, plus its version list. */
export interface ChartSpec {
  index: number;
  name: string;
  description: string;
  keywords: string[];
  home: string;
  sources: string[];
  icon: string;
  maintainers: Maintainer[];
  dependencies: Dependency[];
  annotations: Record<string, string>;
  type: 'application' | 'library';
  /** Oldest first. */
  versions: ChartVersionSpec[];
  /** README, values.yaml and templates: the same for every version (only Chart.yaml differs). */
  files: { path: string; content: string }[];
}

export interface ChartVersionSpec {
  version: string;
  appVersion: string;
  /** ISO time, the manifest's org.opencontainers.image.created. */
  created: string;
}

const combinations = adjectives.length * nouns.length;
// A stride coprime with `combinations` walks every adjective-noun pair once, in a scattered order.
const stride = 7919;

/** A unique, valid chart (and repository) name for each index: `cobalt-gateway`, then `cobalt-gateway-2` … */
export function chartName(index: number): string {
  const k = (index * stride) % combinations;
  const base = `${adjectives[k % adjectives.length]}-${nouns[Math.floor(k / adjectives.length)]}`;
  const round = Math.floor(index / combinations);
  return round === 0 ? base : `${base}-${round + 1}`;
}

function versionList(rand: () => number, count: number, chartIndex: number): ChartVersionSpec[] {
  const versions: ChartVersionSpec[] = [];
  let [major, minor, patch] = [rand() < 0.3 ? 0 : between(rand, 1, 4), between(rand, 0, 9), 0];
  let app = [between(rand, 1, 12), between(rand, 0, 20), between(rand, 0, 9)] as [number, number, number];
  // Charts start on different days and get a release every one to three weeks.
  let time = Date.UTC(2022, 0, 1) + between(rand, 0, 365) * 86_400_000 + chartIndex * 60_000;
  while (versions.length < count) {
    const release = `${major}.${minor}.${patch}`;
    const appVersion = `${app[0]}.${app[1]}.${app[2]}`;
    // Now and then a release candidate comes first.
    if (rand() < 0.06) {
      versions.push({ version: `${release}-rc.1`, appVersion, created: new Date(time).toISOString() });
      time += between(rand, 1, 4) * 86_400_000;
    }
    versions.push({ version: release, appVersion, created: new Date(time).toISOString() });
    time += between(rand, 7, 21) * 86_400_000 + between(rand, 0, 86_399) * 1000;
    const step = rand();
    if (step < 0.06) [major, minor, patch] = [major + 1, 0, 0];
    else if (step < 0.3) [minor, patch] = [minor + 1, 0];
    else patch += 1;
    const appStep = rand();
    if (appStep < 0.05) app = [app[0] + 1, 0, 0];
    else if (appStep < 0.35) app = [app[0], app[1] + 1, 0];
    else if (appStep < 0.8) app = [app[0], app[1], app[2] + 1];
  }
  return versions.slice(0, count);
}

function sentence(rand: () => number, words: number): string {
  const text = Array.from({ length: words }, () => pick(rand, prose)).join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function paragraph(rand: () => number, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(rand, between(rand, 8, 18))).join(' ');
}

interface ValueDoc {
  key: string;
  value: string;
  description: string;
}

function valueDocs(rand: () => number, name: string, topicWords: string[]): ValueDoc[] {
  const docs: ValueDoc[] = [
    { key: 'replicaCount', value: String(between(rand, 1, 3)), description: 'Number of replicas' },
    { key: 'image.repository', value: `ghcr.io/${pick(rand, orgs)}/${name}`, description: 'Image repository' },
    { key: 'image.tag', value: '""', description: 'Image tag; defaults to the chart appVersion' },
    { key: 'image.pullPolicy', value: 'IfNotPresent', description: 'Image pull policy' },
    { key: 'service.type', value: 'ClusterIP', description: 'Service type' },
    { key: 'service.port', value: String(pick(rand, [80, 443, 8080, 8443, 9000, 3000, 5432, 6379])), description: 'Service port' },
    { key: 'ingress.enabled', value: 'false', description: 'Expose the service through an Ingress' },
    { key: 'ingress.className', value: '""', description: 'IngressClass to use' },
    { key: 'resources.requests.cpu', value: `${between(rand, 1, 10) * 50}m`, description: 'CPU request' },
    { key: 'resources.requests.memory', value: `${between(rand, 1, 16) * 64}Mi`, description: 'Memory request' },
    { key: 'persistence.enabled', value: String(rand() < 0.5), description: 'Keep data on a PersistentVolumeClaim' },
    { key: 'persistence.size', value: `${between(rand, 1, 100)}Gi`, description: 'Size of the volume' },
    { key: 'metrics.enabled', value: 'false', description: 'Expose Prometheus metrics' },
    { key: 'metrics.serviceMonitor.enabled', value: 'false', description: 'Create a ServiceMonitor for the Prometheus Operator' },
  ];
  for (const topic of topicWords) {
    const key = topic.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    docs.push({ key: `${key}.enabled`, value: String(rand() < 0.5), description: `Integrate with ${topic}` });
    docs.push({ key: `${key}.endpoint`, value: `"${topic}.${pick(rand, orgs)}.svc:${between(rand, 1000, 9999)}"`, description: `Address of the ${topic} service` });
  }
  return docs;
}

function valuesYaml(docs: ValueDoc[]): string {
  // Nested keys rendered as nested YAML; the first part of each key in order of appearance.
  interface Node {
    children: Map<string, Node>;
    value?: string;
    description?: string;
  }
  const root: Node = { children: new Map() };
  for (const doc of docs) {
    let node = root;
    for (const part of doc.key.split('.')) {
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    }
    node.value = doc.value;
    node.description = doc.description;
  }
  const lines: string[] = [];
  const walk = (node: Node, indent: string): void => {
    for (const [key, child] of node.children) {
      if (child.description) lines.push(`${indent}# -- ${child.description}`);
      if (child.children.size === 0) lines.push(`${indent}${key}: ${child.value ?? '""'}`);
      else {
        lines.push(`${indent}${key}:`);
        walk(child, `${indent}  `);
      }
    }
  };
  walk(root, '');
  return `${lines.join('\n')}\n`;
}

function readme(rand: () => number, spec: Omit<ChartSpec, 'files' | 'versions'>, docs: ValueDoc[]): string {
  const title = spec.name
    .split('-')
    .map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`)
    .join(' ');
  const parts = [
    `# ${title}`,
    spec.description,
    `## TL;DR\n\n\`\`\`console\nhelm install my-release oci://registry.example.com/charts/${spec.name}\n\`\`\``,
    `## Introduction\n\n${paragraph(rand, between(rand, 3, 6))}\n\n${paragraph(rand, between(rand, 2, 5))}`,
    `## Features\n\n${pickDistinct(rand, features, between(rand, 3, 6))
      .map((feature) => `- ${feature.charAt(0).toUpperCase()}${feature.slice(1)}`)
      .join('\n')}`,
    `## Prerequisites\n\n- Kubernetes 1.23+\n- Helm 3.8+\n${spec.keywords.map((k) => `- Optional: ${k}`).join('\n')}`,
    `## Installing the Chart\n\n\`\`\`console\nhelm install my-release oci://registry.example.com/charts/${spec.name} --version <version>\n\`\`\`\n\n${paragraph(rand, 2)}`,
    `## Uninstalling the Chart\n\n\`\`\`console\nhelm uninstall my-release\n\`\`\`\n\n${paragraph(rand, 1)}`,
    `## Parameters\n\n| Name | Description | Value |\n| ---- | ----------- | ----- |\n${docs
      .map((doc) => `| \`${doc.key}\` | ${doc.description} | \`${doc.value}\` |`)
      .join('\n')}`,
    `## Configuration and installation details\n\n${paragraph(rand, between(rand, 4, 8))}\n\n${paragraph(rand, between(rand, 3, 6))}`,
    `## Upgrading\n\n${paragraph(rand, between(rand, 2, 5))}`,
    `## License\n\nCopyright © ${spec.maintainers[0]?.name ?? 'The authors'}. Licensed under the ${spec.annotations.license}.`,
  ];
  return `${parts.join('\n\n')}\n`;
}

const helpersTpl = (name: string): string => `{{/*
Expand the name of the chart.
*/}}
{{- define "${name}.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
*/}}
{{- define "${name}.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "${name}.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "${name}.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "${name}.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
`;

const deploymentYaml = (name: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "${name}.fullname" . }}
  labels:
    {{- include "${name}.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ include "${name}.name" . }}
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        {{- include "${name}.labels" . | nindent 8 }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
          livenessProbe:
            httpGet: { path: /healthz, port: http }
          readinessProbe:
            httpGet: { path: /ready, port: http }
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`;

const serviceYaml = (name: string): string => `apiVersion: v1
kind: Service
metadata:
  name: {{ include "${name}.fullname" . }}
  labels:
    {{- include "${name}.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      name: http
  selector:
    app.kubernetes.io/name: {{ include "${name}.name" . }}
    app.kubernetes.io/instance: {{ .Release.Name }}
`;

const specCache = new Map<string, ChartSpec>();

/**
 * The chart at `index` with its first `versions` versions; the same index always describes the
 * same chart, and asking for more versions only appends to the list.
 */
export function chartSpec(index: number, versions: number): ChartSpec {
  const cacheKey = `${index}/${versions}`;
  const cached = specCache.get(cacheKey);
  if (cached) return cached;
  const rand = random(0x5eed ^ Math.imul(index + 1, 0x9e3779b1));
  const name = chartName(index);
  const [adjective, noun] = name.split('-') as [string, string];
  const keywords = [noun, ...pickDistinct(rand, topics, between(rand, 2, 5))];
  const org = pick(rand, orgs);
  const maintainers = Array.from({ length: between(rand, 1, 3) }, () => {
    const first = pick(rand, firstNames);
    const last = pick(rand, lastNames);
    const maintainer: Maintainer = { name: `${first} ${last}`, email: `${first}.${last}@${org}.example`.toLowerCase() };
    if (rand() < 0.3) maintainer.url = `https://github.com/${first.toLowerCase()}${last.toLowerCase()}`;
    return maintainer;
  });
  const dependencies: Dependency[] =
    rand() < 0.25
      ? pickDistinct(rand, ['postgresql', 'redis', 'mysql', 'kafka', 'mongodb'] as const, between(rand, 1, 2)).map((dep) => ({
          name: dep,
          version: `${between(rand, 10, 19)}.x.x`,
          repository: 'oci://registry-1.docker.io/bitnamicharts',
          condition: `${dep}.enabled`,
        }))
      : [];
  const chartFeatures = pickDistinct(rand, features, 2);
  const description = `${/^[aeiou]/.test(adjective) ? 'An' : 'A'} ${adjective} ${noun} for ${keywords[1]} workloads on Kubernetes, with ${chartFeatures[0]} and ${chartFeatures[1]}.`;
  const base = {
    index,
    name,
    description,
    keywords,
    home: `https://${name}.${org}.example`,
    sources: [`https://github.com/${org}/${name}`, ...(rand() < 0.3 ? [`https://github.com/${org}/charts`] : [])],
    icon: `https://${name}.${org}.example/logo.svg`,
    maintainers,
    dependencies,
    annotations: {
      category: pick(rand, ['Infrastructure', 'Database', 'Monitoring', 'Security', 'Networking', 'DeveloperTools', 'Analytics'] as const),
      license: pick(rand, ['Apache-2.0', 'MIT', 'BSD-3-Clause', 'MPL-2.0'] as const),
    },
    type: rand() < 0.04 ? ('library' as const) : ('application' as const),
  };
  const docs = valueDocs(rand, name, keywords.slice(1));
  const spec: ChartSpec = {
    ...base,
    // Versions from their own stream: a chart's files and first N versions do not depend on how many are asked for.
    versions: versionList(random(0x7e75 ^ Math.imul(index + 1, 0x85ebca6b)), versions, index),
    files: [
      { path: `${name}/values.yaml`, content: valuesYaml(docs) },
      { path: `${name}/README.md`, content: readme(rand, base, docs) },
      { path: `${name}/.helmignore`, content: '.git/\n*.swp\n*.bak\n*.tmp\n.vscode/\n' },
      { path: `${name}/templates/_helpers.tpl`, content: helpersTpl(name) },
      { path: `${name}/templates/deployment.yaml`, content: deploymentYaml(name) },
      { path: `${name}/templates/service.yaml`, content: serviceYaml(name) },
      { path: `${name}/templates/NOTES.txt`, content: `Thank you for installing {{ .Chart.Name }} {{ .Chart.Version }}.\n\n${sentence(rand, 12)}\n` },
    ],
  };
  if (specCache.size > 64) specCache.clear();
  specCache.set(cacheKey, spec);
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Archives

/** Chart.yaml's fields, in Helm's order; what the config blob holds as JSON. */
export function chartMetadata(spec: ChartSpec, version: ChartVersionSpec): Record<string, unknown> {
  return {
    apiVersion: 'v2',
    name: spec.name,
    version: version.version,
    kubeVersion: '>=1.23.0-0',
    description: spec.description,
    type: spec.type,
    keywords: spec.keywords,
    home: spec.home,
    sources: spec.sources,
    ...(spec.dependencies.length > 0 ? { dependencies: spec.dependencies } : {}),
    maintainers: spec.maintainers,
    icon: spec.icon,
    appVersion: version.appVersion,
    annotations: spec.annotations,
  };
}

function yamlString(text: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9 ._/:@-]*$/.test(text) && !/: /.test(text) ? text : JSON.stringify(text);
}

/** Chart.yaml as a person would write it (block style, quotes only where needed). */
export function chartYaml(spec: ChartSpec, version: ChartVersionSpec): string {
  const lines = [
    'apiVersion: v2',
    `name: ${spec.name}`,
    `description: ${yamlString(spec.description)}`,
    `type: ${spec.type}`,
    `version: ${version.version}`,
    `appVersion: "${version.appVersion}"`,
    `kubeVersion: ">=1.23.0-0"`,
    'keywords:',
    ...spec.keywords.map((keyword) => `  - ${keyword}`),
    `home: ${spec.home}`,
    'sources:',
    ...spec.sources.map((source) => `  - ${source}`),
    `icon: ${spec.icon}`,
    'maintainers:',
    ...spec.maintainers.flatMap((m) => [`  - name: ${m.name}`, `    email: ${m.email}`, ...(m.url ? [`    url: ${m.url}`] : [])]),
  ];
  if (spec.dependencies.length > 0) {
    lines.push('dependencies:');
    for (const dep of spec.dependencies) {
      lines.push(`  - name: ${dep.name}`, `    version: ${dep.version}`, `    repository: ${dep.repository}`, `    condition: ${dep.condition}`);
    }
  }
  lines.push('annotations:', ...Object.entries(spec.annotations).map(([k, v]) => `  ${k}: ${yamlString(v)}`));
  return `${lines.join('\n')}\n`;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar entry (header, body, padding); fixed owner and mtime so archives are reproducible. */
function tarEntry(path: string, content: Buffer, mtime: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(path.slice(0, 100), 0, 'utf8');
  header.write(octal(0o644, 8), 100);
  header.write(octal(0, 8), 108);
  header.write(octal(0, 8), 116);
  header.write(octal(content.length, 12), 124);
  header.write(octal(mtime, 12), 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\x0000', 257, 'binary');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, content, Buffer.alloc((512 - (content.length % 512)) % 512)]);
}

const tarEnd = Buffer.alloc(1024);

/** The tar entries that are the same in every version of a chart, built once per chart. */
const sharedEntries = new WeakMap<ChartSpec, Buffer>();

function sharedTar(spec: ChartSpec): Buffer {
  let shared = sharedEntries.get(spec);
  if (!shared) {
    const mtime = Math.floor(Date.parse(spec.versions[0]?.created ?? '2022-01-01T00:00:00Z') / 1000);
    shared = Buffer.concat(spec.files.map((file) => tarEntry(file.path, Buffer.from(file.content), mtime)));
    sharedEntries.set(spec, shared);
  }
  return shared;
}

/** What one `helm push` sends: config, chart layer and the manifest over both. */
export interface ChartArtifact {
  name: string;
  version: string;
  tag: string;
  config: Buffer;
  tgz: Buffer;
  /** sha256:… of the .tgz; index.yaml's `digest` is its hex part. */
  tgzDigest: string;
  manifest: Buffer;
}

export function chartArtifact(spec: ChartSpec, version: ChartVersionSpec): ChartArtifact {
  const mtime = Math.floor(Date.parse(version.created) / 1000);
  const tgz = gzipSync(Buffer.concat([tarEntry(`${spec.name}/Chart.yaml`, Buffer.from(chartYaml(spec, version)), mtime), sharedTar(spec), tarEnd]));
  const config = Buffer.from(JSON.stringify(chartMetadata(spec, version)));
  const tgzDigest = sha256(tgz);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: helmMediaTypes.config, digest: sha256(config), size: config.length },
      layers: [{ mediaType: helmMediaTypes.chart, digest: tgzDigest, size: tgz.length }],
      annotations: {
        'org.opencontainers.image.created': version.created,
        'org.opencontainers.image.description': spec.description,
        'org.opencontainers.image.title': spec.name,
        'org.opencontainers.image.version': version.version,
      },
    }),
  );
  return { name: spec.name, version: version.version, tag: version.version.replaceAll('+', '_'), config, tgz, tgzDigest, manifest };
}

/** Pushes one chart version as Helm does: config blob, chart blob, manifest under the version tag. */
export async function pushChartArtifact(client: OciClient, namespace: string, artifact: ChartArtifact): Promise<void> {
  const repository = namespace === '' ? artifact.name : `${namespace}/${artifact.name}`;
  await client.pushBlob(repository, artifact.config);
  await client.pushBlob(repository, artifact.tgz);
  await client.pushManifest(repository, artifact.tag, artifact.manifest, helmMediaTypes.manifest);
}

// ---------------------------------------------------------------------------------------------
// Seeding

export interface SeedOptions {
  namespace: string;
  charts: number;
  versions: number;
  /** Pushes in flight at once (default 16). */
  concurrency?: number;
  /** Seconds between progress lines (default 5; 0 for none). */
  progressEvery?: number;
  log?: (line: string) => void;
}

export interface SeedResult {
  pushes: number;
  seconds: number;
  pushesPerSecond: number;
  /** HTTP requests made: POST + PUT per blob, PUT per manifest. */
  requests: number;
  /** Bytes of blobs and manifests sent. */
  bytes: number;
  meanTgzBytes: number;
  /** CPU seconds this process spent building archives and driving the pushes. */
  clientCpuSeconds: number;
}

/**
 * Pushes `charts` × `versions` chart versions into `namespace` through the OCI API, `concurrency`
 * at a time over a keep-alive client. Chart-major order: every version of a chart, then the next.
 */
export async function seedCharts(url: string, options: SeedOptions): Promise<SeedResult> {
  const concurrency = options.concurrency ?? 16;
  const log = options.log ?? ((line: string) => console.error(line));
  const total = options.charts * options.versions;
  const client = createClient(url, concurrency);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  let done = 0;
  let bytes = 0;
  let tgzBytes = 0;
  let lastDone = 0;
  let lastTime = started;
  const progressEvery = options.progressEvery ?? 5;
  const timer =
    progressEvery > 0
      ? setInterval(() => {
          const now = performance.now();
          const rate = ((done - lastDone) * 1000) / (now - lastTime);
          const overall = (done * 1000) / (now - started);
          log(
            `  seeded ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${((done / total) * 100).toFixed(0)}%) · ` +
              `${rate.toFixed(0)} pushes/s now, ${overall.toFixed(0)} overall · ${((now - started) / 1000).toFixed(0)} s`,
          );
          lastDone = done;
          lastTime = now;
        }, progressEvery * 1000)
      : undefined;
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, total) }, async () => {
        while (next < total) {
          const item = next++;
          const spec = chartSpec(Math.floor(item / options.versions), options.versions);
          const artifact = chartArtifact(spec, spec.versions[item % options.versions] as ChartVersionSpec);
          await pushChartArtifact(client, options.namespace, artifact);
          done += 1;
          bytes += artifact.config.length + artifact.tgz.length + artifact.manifest.length;
          tgzBytes += artifact.tgz.length;
        }
      }),
    );
  } finally {
    if (timer) clearInterval(timer);
    client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    pushes: done,
    seconds,
    pushesPerSecond: done / seconds,
    requests: done * 5,
    bytes,
    meanTgzBytes: done > 0 ? tgzBytes / done : 0,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

// What a chart's Chart.yaml says, as the store, the classic index and the JSON API carry it.
// Types only, with no imports: the web UI's build reads them too.

export interface Maintainer {
  name: string;
  email?: string;
  url?: string;
}

export interface Dependency {
  name: string;
  version?: string;
  repository?: string;
  condition?: string;
  tags?: string[];
  enabled?: boolean;
  alias?: string;
}

/** The Chart.yaml fields Helm knows, as the classic index and the API carry them. */
export interface ChartMetadata {
  apiVersion: string;
  name: string;
  version: string;
  appVersion?: string;
  kubeVersion?: string;
  description?: string;
  type?: string;
  keywords?: string[];
  home?: string;
  sources?: string[];
  icon?: string;
  deprecated?: boolean;
  maintainers?: Maintainer[];
  dependencies?: Dependency[];
  annotations?: Record<string, string>;
  condition?: string;
  tags?: string;
}

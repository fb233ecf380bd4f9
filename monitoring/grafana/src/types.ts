/**
 * The small part of Grafana's dashboard JSON model (schemaVersion 39) that the builders emit.
 * Plain interfaces instead of an SDK: the output stays readable and diffable, and nothing
 * beyond what these dashboards use can sneak in.
 */

export interface DatasourceRef {
  type: 'prometheus';
  uid: string;
}

export interface Target {
  refId: string;
  datasource: DatasourceRef;
  expr: string;
  legendFormat?: string;
  editorMode: 'code';
  range: boolean;
  instant: boolean;
  format?: 'time_series' | 'table';
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type PanelType = 'timeseries' | 'stat' | 'gauge' | 'table' | 'row';

export interface Threshold {
  color: string;
  value: number | null;
}

export interface Panel {
  id: number;
  type: PanelType;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DatasourceRef;
  targets?: Target[];
  fieldConfig?: {
    defaults: Record<string, unknown>;
    overrides: unknown[];
  };
  options?: Record<string, unknown>;
  transformations?: { id: string; options: Record<string, unknown> }[];
  collapsed?: boolean;
  panels?: Panel[];
}

export interface TemplateVariable {
  name: string;
  label: string;
  type: 'datasource';
  query: string;
  current: Record<string, never>;
  hide: number;
  refresh: number;
  regex: string;
  options: never[];
}

export interface Dashboard {
  id: null;
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'browser';
  editable: boolean;
  graphTooltip: number;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: TemplateVariable[] };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}

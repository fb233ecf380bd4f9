import { OwlError } from '../errors.ts';
import { DEFAULTS, SETTINGS, type Config, type SettingKey } from './schema.ts';

const ENV_TO_KEY = new Map(Object.entries(SETTINGS).map(([key, setting]) => [setting.env, key as SettingKey]));

function invalid(message: string): OwlError {
  return new OwlError('CONFIG_INVALID', message);
}

function parse(key: SettingKey, raw: unknown, origin: string): unknown {
  const setting = SETTINGS[key] as { kind: string; min?: number; max?: number; values?: readonly string[] };
  switch (setting.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isInteger(n)) throw invalid(`${origin} must be an integer, got ${JSON.stringify(raw)}`);
      if (setting.min !== undefined && n < setting.min) throw invalid(`${origin} must be ≥ ${setting.min}, got ${n}`);
      if (setting.max !== undefined && n > setting.max) throw invalid(`${origin} must be ≤ ${setting.max}, got ${n}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const v = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      throw invalid(`${origin} must be true or false, got ${JSON.stringify(raw)}`);
    }
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw).split(',').map((x) => x.trim()).filter(Boolean);
    case 'enum':
      if (!setting.values!.includes(String(raw))) throw invalid(`${origin} must be one of ${setting.values!.join(', ')}, got ${JSON.stringify(raw)}`);
      return String(raw);
    default:
      return String(raw);
  }
}

/**
 * Builds the frozen configuration: defaults, then the environment, then explicit overrides
 * (CLI flags). Rejects unknown OWL_* variables and unknown override keys by name.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<SettingKey, unknown>> = {}): Config {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const key = ENV_TO_KEY.get(name);
    if (!key) {
      if (name.startsWith('OWL_')) throw invalid(`unknown setting ${name} (known: ${[...ENV_TO_KEY.keys()].filter((k) => k.startsWith('OWL_')).join(', ')})`);
      continue;
    }
    if (raw === '' && SETTINGS[key].kind !== 'bool') continue;
    out[key] = parse(key, raw, name);
  }
  for (const [key, raw] of Object.entries(overrides)) {
    if (!(key in SETTINGS)) throw invalid(`unknown setting ${key}`);
    if (raw === undefined) continue;
    out[key] = parse(key as SettingKey, raw, `--${key}`);
  }
  if (out.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(String(out.databaseUrl))) {
    throw invalid('DATABASE_URL must start with postgres:// or postgresql:// (unset it for the embedded SQLite store)');
  }
  if (out.grafanaUrl !== undefined && !/^https?:\/\/[^/]/.test(String(out.grafanaUrl))) {
    throw invalid('OWL_GRAFANA_URL must be an http(s) URL, e.g. http://localhost:3000');
  }
  const schedule = out.webhookRetrySchedule as string[];
  if (schedule.length === 0 || schedule.some((v) => !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 7 * 24 * 3600 * 1000)) {
    throw invalid(`OWL_WEBHOOK_RETRY_SCHEDULE must list waits in ms (1 ms to 7 days), comma-separated, got ${JSON.stringify(schedule.join(','))}`);
  }
  return Object.freeze(out) as Config;
}

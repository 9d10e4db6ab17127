// Text forms of a counter snapshot, shared by the tree, its mount and server, and the CLI: the
// path order, `path value` lines, and the Prometheus text exposition format.
import { describeCounter } from './descriptions';

const NUMERIC = /^\d+$/;

/**
 * Order of counter paths: segment by segment, numbered segments by number (swap/2 before swap/10),
 * others by code unit. A total order, so every listing is stable across calls.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] === y[i]) continue;
    if (NUMERIC.test(x[i]) && NUMERIC.test(y[i]) && Number(x[i]) !== Number(y[i])) return Number(x[i]) - Number(y[i]);
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/** A counter value as text: integers without exponent, non-finite values as Prometheus spells them. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return value.toFixed(0);
  return String(value);
}

/** `path value` lines of a snapshot, in its order. */
export function formatLines(snapshot: Record<string, number>): string {
  let out = '';
  for (const [path, value] of Object.entries(snapshot)) out += `${path} ${formatValue(value)}\n`;
  return out;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * Metric name and labels of a counter path: `tmem_` + the non-numeric segments joined with `_`;
 * numbered directories become labels (`swap/0/used_pages` → `tmem_swap_used_pages{type="0"}`,
 * `zsmalloc/class/32/obj_used` → `tmem_zsmalloc_class_obj_used{size="32"}`,
 * `swapcache/1/keys` → `tmem_swapcache_keys{id="1"}`).
 */
const LABELS: Readonly<Record<string, string>> = { swap: 'type', class: 'size' };

export function prometheusName(path: string): { name: string; labels: string } {
  const parts = path.split('/');
  const names: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (NUMERIC.test(parts[i]) && i > 0) {
      let label = LABELS[parts[i - 1]] ?? 'id';
      if (labels.some((l) => l.startsWith(label + '='))) label += `_${labels.length}`;
      labels.push(`${label}="${escapeLabel(parts[i])}"`);
    } else {
      names.push(parts[i]);
    }
  }
  let name = 'tmem_' + names.join('_').replace(/[^a-zA-Z0-9_]/g, '_');
  if (name === 'tmem_') name = 'tmem_counter';
  return { name, labels: labels.length ? `{${labels.join(',')}}` : '' };
}

/**
 * Prometheus text exposition format (version 0.0.4) of a snapshot: one `# HELP` and `# TYPE` per
 * metric (counters that count events are `counter`, the rest `gauge`), then its samples.
 */
export function toPrometheus(snapshot: Record<string, number>): string {
  const families = new Map<string, { path: string; samples: string[] }>();
  for (const [path, value] of Object.entries(snapshot)) {
    const { name, labels } = prometheusName(path);
    let family = families.get(name);
    if (!family) families.set(name, (family = { path, samples: [] }));
    family.samples.push(`${name}${labels} ${formatValue(value)}\n`);
  }
  let out = '';
  for (const [name, { path, samples }] of families) {
    const description = describeCounter(path);
    out += `# HELP ${name} ${escapeHelp(description ? description.help : `debugfs counter ${path}`)}\n`;
    out += `# TYPE ${name} ${description ? description.kind : 'gauge'}\n`;
    out += samples.join('');
  }
  return out;
}

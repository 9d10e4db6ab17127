// What is in use: tmem's own version, and the liblz4 the addon was built with (or why there is none).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNative } from './native/binding';
import { packageRoot } from './native/binding';

export interface Versions {
  tmem: string;
  node: string;
  /** liblz4 version string of the addon, null when the addon is unavailable. */
  lz4: string | null;
  /** N-API version the addon targets, null when the addon is unavailable. */
  napi: number | null;
  /** Why the addon could not be loaded, when it could not. */
  nativeError?: string;
}

export function versions(): Versions {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const base = { tmem: pkg.version, node: process.versions.node };
  try {
    const v = loadNative().versions();
    return { ...base, lz4: v.lz4, napi: v.napi };
  } catch (err) {
    return { ...base, lz4: null, napi: null, nativeError: (err as Error).message };
  }
}

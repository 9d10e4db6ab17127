// Type-checked (not run) with tsc --noEmit: tmem's types resolve for an ESM TypeScript consumer.
import tmem, { debugfs, versions, type Versions } from 'tmem';

const v: Versions = versions();
const stored: number = debugfs.read('zcache/stored_pages');
export const summary = `${v.tmem} ${stored} ${typeof tmem.swapon}`;

// @ts-expect-error: swapon takes a path; if tmem's types did not resolve, this line would not error
tmem.swapon(42);

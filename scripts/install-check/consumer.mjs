// ESM side of the consumer check: `import` loads the same module instance as require().
import { createRequire } from 'node:module';
import tmem, { swapon, loadDefaultBackend, versions } from 'tmem';

const fromRequire = createRequire(import.meta.url)('tmem');
if (tmem.swapon !== swapon || fromRequire.swapon !== swapon) throw new Error('import and require give different instances');
if (typeof loadDefaultBackend !== 'function' || typeof versions().tmem !== 'string') throw new Error('named exports missing');
console.log(JSON.stringify({ import: 'ok', lz4: versions().lz4 }));

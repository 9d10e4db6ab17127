// Lists every package installed under a project's node_modules (npm's flat layout and pnpm's
// .pnpm store alike) and fails if any but tmem has an install step: a preinstall, install or
// postinstall script, or a binding.gyp (for which npm runs `node-gyp rebuild` by itself). tmem's
// own may only be scripts/install.js, the step that never fails.
//
//   node check-deps.mjs PROJECT_DIR
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const STEPS = ['preinstall', 'install', 'postinstall'];
const found = new Map();

function visit(modules) {
  if (!existsSync(modules)) return;
  for (const entry of readdirSync(modules)) {
    if (entry === '.bin') continue;
    if (entry === '.pnpm') {
      for (const slot of readdirSync(join(modules, entry))) visit(join(modules, entry, slot, 'node_modules'));
      continue;
    }
    const dirs = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => join(modules, entry, n)) : [join(modules, entry)];
    for (const dir of dirs) {
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const real = realpathSync(dir);
      if (found.has(real)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      found.set(real, pkg);
      visit(join(dir, 'node_modules'));
    }
  }
}

visit(join(process.argv[2], 'node_modules'));
const problems = [];
for (const [dir, pkg] of found) {
  const steps = STEPS.filter((s) => pkg.scripts?.[s]).map((s) => `${s}: ${pkg.scripts[s]}`);
  if (pkg.name === 'tmem') {
    if (steps.join() !== 'install: node scripts/install.js') problems.push(`tmem has install steps ${steps.join('; ')}`);
    continue;
  }
  if (steps.length > 0) problems.push(`${pkg.name}@${pkg.version} has ${steps.join('; ')}`);
  if (existsSync(join(dir, 'binding.gyp'))) problems.push(`${pkg.name}@${pkg.version} has a binding.gyp (npm would run node-gyp rebuild)`);
}
const names = [...found.values()].map((p) => `${p.name}@${p.version}`).sort();
if (!names.some((n) => n.startsWith('tmem@'))) problems.push('tmem is not installed');
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`no install steps but tmem's own in: ${names.join(', ')}`);

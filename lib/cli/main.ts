#!/usr/bin/env node
// The `tmem` command: `tmem demo` runs the demo workload, `tmem stat` prints a running tree.
// Mistakes in the command line are one line on stderr and exit code 2; failures exit 1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demo, DEMO_USAGE, type Io } from './demo';
import { rerunWithYoungCap } from './demo-memory';
import { stat, STAT_USAGE } from './stat';
import { UsageError } from './ui';

const USAGE = `Usage: tmem <command> [options]

Commands:
  demo        run a workload several times larger than its memory budget through SwapCache
              and zcache, and print what went where (npm start runs this)
  stat        print the counters of a running tmem (a mounted directory or a URL)

Run 'tmem <command> --help' for a command's options.

Options:
  -h, --help     show this help
  -v, --version  print the version
`;

function version(): string {
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'demo':
        return await demo(rest, io);
      case 'stat':
        return await stat(rest, io);
      case 'help':
        if (rest[0] === 'demo') io.stdout.write(DEMO_USAGE);
        else if (rest[0] === 'stat') io.stdout.write(STAT_USAGE);
        else io.stdout.write(USAGE);
        return 0;
      case '-h':
      case '--help':
        io.stdout.write(USAGE);
        return 0;
      case '-v':
      case '--version':
        io.stdout.write(`tmem ${version()}\n`);
        return 0;
      case undefined:
        io.stderr.write(USAGE);
        return 2;
      default:
        throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}' (try tmem --help)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`tmem: ${err.message}\n`);
      return 2;
    }
    const e = err as { code?: string; message?: string };
    io.stderr.write(`tmem: ${e.message?.split('\n')[0] ?? String(err)}${e.code && !e.message?.includes(e.code) ? ` (${e.code})` : ''}\n`);
    return 1;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // The demo measures its memory as a container of its size would see it (demo-memory.ts).
  const run = (argv[0] === 'demo' && rerunWithYoungCap(__filename, argv)) || main(argv);
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`tmem: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}

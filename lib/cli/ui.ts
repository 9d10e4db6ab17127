// Terminal output helpers: sizes, a progress bar, an aligned table, and the usage error type.

/** A command-line mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '-';
}

/** Rows of cells as aligned text; the first row is the header, underlined. */
export function table(rows: string[][], rightAlign: boolean[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (rightAlign[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/**
 * A progress bar on a TTY (redrawn at most ten times a second), or a plain line at every quarter
 * otherwise, so logs stay short.
 */
export class Progress {
  #stream: NodeJS.WriteStream;
  #tty: boolean;
  #label: string;
  #lastDraw = 0;
  #lastQuarter = -1;
  #width = 30;

  constructor(stream: NodeJS.WriteStream, label: string) {
    this.#stream = stream;
    this.#tty = Boolean(stream.isTTY);
    this.#label = label;
  }

  /** `fraction` in 0..1; `detail` is shown after the bar. */
  update(fraction: number, detail: string, force = false): void {
    const f = Math.max(0, Math.min(1, fraction));
    if (this.#tty) {
      const now = Date.now();
      if (!force && now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      const filled = Math.round(f * this.#width);
      const bar = '█'.repeat(filled) + '░'.repeat(this.#width - filled);
      const cols = this.#stream.columns || 100;
      const text = `${this.#label} ${bar} ${(f * 100).toFixed(0).padStart(3)}%  ${detail}`;
      this.#stream.write(`\r\x1b[K${text.slice(0, cols - 1)}`);
    } else {
      const quarter = Math.floor(f * 4);
      if (quarter > this.#lastQuarter) {
        this.#lastQuarter = quarter;
        this.#stream.write(`${this.#label} ${(quarter * 25).toString().padStart(3)}%  ${detail}\n`);
      }
    }
  }

  /** Draws the final state and ends the line. */
  done(detail: string): void {
    if (this.#tty) {
      this.update(1, detail, true);
      this.#stream.write('\n');
    } else if (this.#lastQuarter < 4) {
      this.update(1, detail);
    }
  }
}

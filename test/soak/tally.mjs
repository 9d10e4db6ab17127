// What a differential run observed: operations, coded errors by code and cause, and failures
// (wrong bytes, a lost page, a hit the model forbids, an uncoded error, state changed by a call
// that failed). Only the first few failures are kept in full.
const KEEP = 20;
/** errno codes an injected fault produces: what ERR_TMEM_IO must carry as its cause. */
const FAULT_CAUSES = new Set(['EIO', 'ENOSPC']);

export class Tally {
  ops = 0;
  failureCount = 0;
  failures = [];
  /** Failures by kind: the part of the message before the first colon. */
  failureKinds = {};
  /** 'ERR_TMEM_IO/EIO' -> count. */
  errors = {};

  fail(message) {
    this.failureCount++;
    const kind = message.split(':')[0];
    this.failureKinds[kind] = (this.failureKinds[kind] ?? 0) + 1;
    if (this.failures.length < KEEP) this.failures.push(message);
  }

  /**
   * An error thrown by a call under injected faults. It must be a TmemError with one of the
   * `allowed` codes; ERR_TMEM_IO must carry the errno error as its cause. Anything else is a failure.
   */
  error(err, where, allowed = ['ERR_TMEM_IO']) {
    const code = err?.code;
    const cause = err?.cause?.code;
    if (!allowed.includes(code)) {
      this.fail(`${where}: uncoded or unexpected error: ${err?.name} ${code ?? '(no code)'}: ${err?.message}`);
      return;
    }
    if (code === 'ERR_TMEM_IO' && !FAULT_CAUSES.has(cause)) {
      this.fail(`${where}: ERR_TMEM_IO without the errno cause (cause: ${err?.cause?.message ?? 'none'})`);
      return;
    }
    const key = cause ? `${code}/${cause}` : code;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }

  /** Counts of coded errors whose code is `code`, over all causes. */
  errorsOf(code) {
    let n = 0;
    for (const [key, count] of Object.entries(this.errors)) if (key === code || key.startsWith(`${code}/`)) n += count;
    return n;
  }

  toJSON() {
    return { ops: this.ops, failureCount: this.failureCount, failureKinds: this.failureKinds, failures: this.failures, errors: this.errors };
  }
}

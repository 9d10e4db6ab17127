// The swap file itself: creation (O_CREAT|O_EXCL, mode 0600, sized sparse like a fresh swap file),
// an mkswap-style header in slot 0, and page I/O with pwrite/pread. Node's fs.writeSync/readSync
// with an explicit position are pwrite(2)/pread(2) underneath.
import * as fs from 'node:fs';
import { PAGE_SIZE } from '../backends/types';
import { TmemError } from '../util/errors';

const SWAP_MAGIC = 'SWAPSPACE2';
const HEADER_VERSION = 1;

export class SwapFile {
  readonly path: string;
  readonly fd: number;
  reads = 0;
  writes = 0;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Creates the file; fails with the fs error (EEXIST, EACCES, ...) and leaves nothing behind. */
  static create(path: string, pages: number): SwapFile {
    const fd = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR, 0o600);
    const file = new SwapFile(path, fd);
    try {
      fs.ftruncateSync(fd, pages * PAGE_SIZE);
      file.#writeHeader(pages);
    } catch (err) {
      file.remove();
      throw new TmemError('ERR_TMEM_IO', `cannot create swap file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return file;
  }

  // Same layout as mkswap's: version, last page and bad-page count at 1024, the magic in the last 10 bytes.
  #writeHeader(pages: number): void {
    const header = Buffer.alloc(PAGE_SIZE);
    header.writeUInt32LE(HEADER_VERSION, 1024);
    header.writeUInt32LE(pages - 1, 1028);
    header.writeUInt32LE(0, 1032);
    header.write(SWAP_MAGIC, PAGE_SIZE - SWAP_MAGIC.length, 'latin1');
    this.writeAt(0, header, 0, 1);
  }

  /** pwrite of `count` pages from `src` (starting at page `first` of src) to slot `offset` onward. */
  writeAt(offset: number, src: Uint8Array, first: number, count: number): void {
    let done = 0;
    const total = count * PAGE_SIZE;
    const base = first * PAGE_SIZE;
    while (done < total) {
      done += fs.writeSync(this.fd, src, base + done, total - done, offset * PAGE_SIZE + done);
    }
    this.writes += count;
  }

  /** pread of one page at slot `offset` into page `index` of `into`. */
  readAt(offset: number, into: Uint8Array, index: number): void {
    let done = 0;
    const base = index * PAGE_SIZE;
    while (done < PAGE_SIZE) {
      const n = fs.readSync(this.fd, into, base + done, PAGE_SIZE - done, offset * PAGE_SIZE + done);
      if (n === 0) throw new Error(`short read of swap slot ${offset}`);
      done += n;
    }
    this.reads++;
  }

  /**
   * pread of `count` pages at slot `offset` onward into page `index` of `into`, on the libuv
   * thread pool (fs.read), so a slow disk does not stall the event loop.
   */
  readAtAsync(offset: number, into: Uint8Array, index: number, count: number): Promise<void> {
    this.reads += count;
    const total = count * PAGE_SIZE;
    const base = index * PAGE_SIZE;
    return new Promise((resolve, reject) => {
      const step = (done: number): void => {
        fs.read(this.fd, into, base + done, total - done, offset * PAGE_SIZE + done, (err, n) => {
          if (err) reject(err);
          else if (n === 0) reject(new Error(`short read of swap slot ${offset}`));
          else if (done + n < total) step(done + n);
          else resolve();
        });
      };
      step(0);
    });
  }

  /** Apparent size and the bytes the filesystem has actually allocated (the file is sparse). */
  sizes(): { size: number; allocated: number } {
    const st = fs.fstatSync(this.fd);
    return { size: st.size, allocated: st.blocks * 512 };
  }

  /** Closes and unlinks; never throws (it runs on error paths too). */
  remove(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    try {
      fs.unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

// The swap file itself: creation (O_CREAT|O_EXCL, mode 0600, sized sparse like a fresh swap file),
// an mkswap-style header in slot 0, and page I/O with pwrite/pread. Node's fs.writeSync/readSync
// with an explicit position are pwrite(2)/pread(2) underneath. Every page written is sealed and
// every page read is checked (page-seals.ts); the header slot is not. The file is an OwnedPath:
// removal (swapoff, or the end of the process or worker that created it) takes only the file
// created, never whatever is at the path by then.
import * as fs from 'node:fs';
import { PAGE_SIZE } from '../backends/types';
import { TmemError } from '../util/errors';
import { OwnedPath } from '../util/owned-paths';
import { plainBytes } from '../util/validate';
import type { PageSeals } from './page-seals';

const SWAP_MAGIC = 'SWAPSPACE2';
const HEADER_VERSION = 1;

export class SwapFile {
  readonly path: string;
  readonly fd: number;
  readonly seals: PageSeals;
  reads = 0;
  writes = 0;
  readonly #owned: OwnedPath;

  private constructor(path: string, fd: number, owned: OwnedPath, seals: PageSeals) {
    this.path = path;
    this.fd = fd;
    this.#owned = owned;
    this.seals = seals;
  }

  /** Creates the file; fails with the fs error (EEXIST, EACCES, ...) and leaves nothing behind. */
  static create(path: string, pages: number, seals: PageSeals): SwapFile {
    const fd = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR, 0o600);
    let owned: OwnedPath;
    try {
      owned = OwnedPath.file(path, fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.unlinkSync(path);
      throw err;
    }
    const file = new SwapFile(path, fd, owned, seals);
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
    this.#pwrite(0, header, 0, 1);
  }

  /**
   * pwrite of `count` pages from `src` (starting at page `first` of src) to slot `offset` onward,
   * sealed. `src` may be a caller's own array: fs reads its byteLength property, so a plain view goes.
   */
  writeAt(offset: number, src: Uint8Array, first: number, count: number): void {
    const sealed = this.seals.seal(offset, plainBytes(src), first, count);
    this.#pwrite(offset, sealed.bytes, sealed.first, count);
  }

  #pwrite(offset: number, view: Uint8Array, first: number, count: number): void {
    let done = 0;
    const total = count * PAGE_SIZE;
    const base = first * PAGE_SIZE;
    while (done < total) {
      done += fs.writeSync(this.fd, view, base + done, total - done, offset * PAGE_SIZE + done);
    }
    this.writes += count;
  }

  /**
   * pread of one page at slot `offset` into page `index` of `into` (a plain view of it, as for
   * writeAt), checked (and decrypted). A page that fails its check, or lies past the end of a
   * truncated file, is ERR_TMEM_CORRUPT.
   */
  readAt(offset: number, into: Uint8Array, index: number): void {
    const view = plainBytes(into);
    let done = 0;
    const base = index * PAGE_SIZE;
    while (done < PAGE_SIZE) {
      const n = fs.readSync(this.fd, view, base + done, PAGE_SIZE - done, offset * PAGE_SIZE + done);
      if (n === 0) throw this.seals.corrupt(offset, view, index, 'past the end of the file');
      done += n;
    }
    this.reads++;
    this.seals.open(offset, view, index);
  }

  /**
   * pread of `count` pages at slot `offset` onward into page `index` of `into`, on the libuv
   * thread pool (fs.read), so a slow disk does not stall the event loop. Once the run is in, each
   * page that `still(page)` says still holds what it held when the read began is checked (and
   * decrypted) as readAt does, a failed check rejecting with ERR_TMEM_CORRUPT; any other page was
   * freed or rewritten under the read and is zeroed: its bytes can be neither checked nor trusted.
   */
  readAtAsync(offset: number, into: Uint8Array, index: number, count: number, still: (page: number) => boolean): Promise<void> {
    this.reads += count;
    const view = plainBytes(into);
    const total = count * PAGE_SIZE;
    const base = index * PAGE_SIZE;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        try {
          for (let k = 0; k < count; k++) {
            if (still(index + k)) this.seals.open(offset + k, view, index + k);
            else view.fill(0, (index + k) * PAGE_SIZE, (index + k + 1) * PAGE_SIZE);
          }
          resolve();
        } catch (err) {
          reject(err);
        }
      };
      const step = (done: number): void => {
        fs.read(this.fd, view, base + done, total - done, offset * PAGE_SIZE + done, (err, n) => {
          const page = Math.floor(done / PAGE_SIZE);
          if (err) reject(err);
          else if (n === 0) reject(this.seals.corrupt(offset + page, view, index + page, 'past the end of the file'));
          else if (done + n < total) step(done + n);
          else check();
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

  /** Empties, unlinks (only if the path still names this file) and closes it; never throws (it runs on error paths too). */
  remove(): void {
    this.#owned.release();
  }
}

// The entry LRU of zcache-js (entry-lru.ts): FIFO with a second chance for referenced entries, lazy
// removal of dropped entries, and an entry stored again while its old node is still queued; checked
// case by case and against a model of the same rules written with JS arrays.
import { describe, expect, it } from 'vitest';
import { EntryLru } from '../lib/backends/zcache-js/entry-lru';
import { rng } from './support/rng';

/** The rules of EntryLru, with arrays and sets. */
class ModelLru {
  queue: number[] = [];
  queued = new Set<number>();
  referenced = new Set<number>();
  add(id: number): void {
    if (this.queued.has(id)) {
      this.referenced.add(id);
      return;
    }
    this.referenced.delete(id);
    this.queue.push(id);
    this.queued.add(id);
  }
  reference(id: number): void {
    this.referenced.add(id);
  }
  take(live: (id: number) => boolean): number {
    while (this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.queued.delete(id);
      const ref = this.referenced.delete(id);
      if (!live(id)) continue;
      if (ref) {
        this.add(id);
        continue;
      }
      return id;
    }
    return -1;
  }
  putBackOldest(id: number): void {
    this.referenced.delete(id);
    this.queue.unshift(id);
    this.queued.add(id);
  }
}

describe('entry LRU', () => {
  it('takes the oldest entry, giving referenced ones a second chance', () => {
    const lru = new EntryLru(8);
    const live = (): boolean => true;
    for (const id of [3, 1, 4, 5]) lru.add(id);
    lru.reference(3);
    lru.reference(4);
    expect(lru.take(live)).toBe(1); // 3 was referenced: moved behind 5
    expect(lru.order()).toEqual([4, 5, 3]);
    expect(lru.take(live)).toBe(5); // 4 likewise
    expect(lru.take(live)).toBe(3);
    expect(lru.take(live)).toBe(4);
    expect(lru.take(live)).toBe(-1);
  });

  it('skips dropped entries lazily; one stored again keeps its place with a second chance', () => {
    const lru = new EntryLru(8);
    const held = new Set([0, 1, 2, 3]);
    const live = (id: number): boolean => held.has(id);
    for (const id of [0, 1, 2, 3]) lru.add(id);
    held.delete(0); // dropped: its node stays until it is met
    held.delete(2);
    expect(lru.order()).toEqual([0, 1, 2, 3]);
    held.add(2);
    lru.add(2); // stored again while still queued
    expect(lru.order()).toEqual([0, 1, 2, 3]);
    expect(lru.isReferenced(2)).toBe(true);
    expect(lru.take(live)).toBe(1);
    expect(lru.take(live)).toBe(3); // 2 is passed over once
    expect(lru.take(live)).toBe(2);
    expect(lru.order()).toEqual([]);
  });

  it('puts a taken entry back at the old end', () => {
    const lru = new EntryLru(4);
    const live = (): boolean => true;
    lru.add(0);
    lru.add(1);
    const id = lru.take(live);
    lru.putBackOldest(id);
    expect(lru.order()).toEqual([0, 1]);
    lru.grow(100);
    lru.add(99);
    expect(lru.order()).toEqual([0, 1, 99]);
  });

  it('agrees with the model over random operations', () => {
    const N = 200;
    const lru = new EntryLru(N);
    const model = new ModelLru();
    const held = new Set<number>();
    const live = (id: number): boolean => held.has(id);
    const taken = new Set<number>();
    const rand = rng(99);
    for (let op = 0; op < 50_000; op++) {
      const id = (rand() * N) | 0;
      const r = rand();
      if (r < 0.35) {
        // Store: the owner holds it, and queues it.
        held.add(id);
        taken.delete(id);
        lru.add(id);
        model.add(id);
      } else if (r < 0.5) {
        lru.reference(id);
        model.reference(id);
      } else if (r < 0.7) {
        held.delete(id); // dropped by its owner (invalidate, exclusive load)
      } else if (r < 0.97) {
        const got = lru.take(live);
        expect(got).toBe(model.take(live));
        if (got >= 0) {
          // Reclaim either frees it, or fails and puts it back.
          if (rand() < 0.2) {
            lru.putBackOldest(got);
            model.putBackOldest(got);
          } else {
            held.delete(got);
            taken.add(got);
          }
        }
      }
      if (op % 5000 === 0) expect(lru.order()).toEqual(model.queue);
    }
    expect(lru.order()).toEqual(model.queue);
  });
});

// Small-integer ids handed out lowest-free-first and reused once released, like file descriptors.

/** Puts `value` in the first slot of `slots` holding `empty` (or at the end); returns its index. */
export function placeInFreeSlot<T>(slots: T[], value: NoInfer<T>, empty: NoInfer<T>): number {
  let id = slots.indexOf(empty);
  if (id < 0) id = slots.length;
  slots[id] = value;
  return id;
}

// The suite's PRNG lives in rng.mjs, shared with the soak; typed here for the TypeScript tests.
import { rng as mulberry32 } from './rng.mjs';

export const rng: (seed: number) => () => number = mulberry32;

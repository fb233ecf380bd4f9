/** Newest modification time (ms) of `dir` and everything under it. */
export function newestMtime(dir: string): number;
/** 'dist' when `root`/dist/owl.js is at least as new as everything under src/ (or there is no src/), else 'src'. */
export function chooseEntry(root: string): 'dist' | 'src';

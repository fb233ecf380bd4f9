/** Background threads for V8 on a machine with `cores` CPUs: the cores beside the main thread (1 to 4). */
export function poolSizeFor(cores: number): number;
/** Reruns `owl crawl` in a child with a sized V8 pool; false when this process should go on itself. */
export function runWithSizedPool(argv?: string[]): Promise<boolean>;

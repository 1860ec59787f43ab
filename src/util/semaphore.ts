/** @module A counting semaphore: at most `limit` holders at once, the others waiting in order. */

/** Returns `acquire`: resolves, once a slot is free, to the function that gives it back. */
export function semaphore(limit: number): () => Promise<() => void> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return function acquire() {
    let given = false;
    const release = () => {
      if (given) return; // a second release must not free a slot someone else holds
      given = true;
      active--;
      waiting.shift()?.();
    };
    if (active < limit) {
      active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      waiting.push(() => {
        active++;
        resolve(release);
      })
    );
  };
}

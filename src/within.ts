/**
 * A promise raced against a timer that never outlives it: the settled
 * value, or `late()`'s (a value, or a throw) once `ms` have passed.
 * @module
 */
export async function within<T, U>(p: Promise<T>, ms: number, late: () => U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (e) {
        reject(e);
      }
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A route's hooks of one kind, as `onRoute` finds them (none, one, or a list), with `hook` added:
 * last, or first when it must run before the route's others.
 */
export function withHook<T> (existing: T | T[] | undefined, hook: T, first = false): T[] {
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]
  return first ? [hook, ...list] : [...list, hook]
}

/**
 * A readonly shape while it is being built member by member: on the hot paths, assigning the
 * members that are present costs less than conditional spreads (each allocates an object).
 */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

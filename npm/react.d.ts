// Types of @larderdb/larder/react.
import type { ReactNode } from "react";
import type { ArrayRows, Database, LarderError, Params, Row, SQLValue } from "./larder.js";

export interface LarderProviderProps {
  /** What open() resolves to. */
  database: Database;
  children?: ReactNode;
}

/** Makes database the one useDatabase() and useQuery() below it use. */
export function LarderProvider(props: LarderProviderProps): ReactNode;

/** The database of the nearest LarderProvider (throws without one). */
export function useDatabase(): Database;

/** What useQuery returns: the same object until one of its fields changes. */
export interface QueryState<T> {
  /** The latest rows; undefined until the first result. Kept while a changed query loads. */
  readonly data: T | undefined;
  /** The error of the latest run, or null. */
  readonly error: LarderError | null;
  /** True until the current query's first result (or error). */
  readonly loading: boolean;
}

/** A live query: runs sql, then again after every committed write (any tab) to a table it reads; stops on
 * unmount. Params are compared by value. */
export function useQuery<V extends unknown[] = SQLValue[]>(sql: string, params: Params | undefined, options: { rowMode: "array" }): QueryState<ArrayRows<V>>;
export function useQuery<R = Row>(sql: string, params?: Params, options?: { rowMode?: "object" }): QueryState<R[]>;

// @larderdb/larder/react — React bindings: LarderProvider, useDatabase()
// and useQuery(sql, params), a live query over db.watch.
//
//   <LarderProvider database={db}><Notes /></LarderProvider>
//   function Notes() {
//     const { data, error, loading } = useQuery("SELECT id, body FROM note ORDER BY id");
//     …
//   }
import { createContext, createElement, useContext, useEffect, useRef, useState } from "react";

const DatabaseContext = createContext(null);

/** Makes database (what open() resolves to) the one useDatabase() and useQuery() below it use. */
export function LarderProvider({ database, children }) {
  return createElement(DatabaseContext.Provider, { value: database ?? null }, children);
}

/** The database of the nearest LarderProvider. */
export function useDatabase() {
  const db = useContext(DatabaseContext);
  if (!db) throw new Error("@larderdb/larder/react: useDatabase() and useQuery() need a <LarderProvider database={db}> above them");
  return db;
}

const LOADING = Object.freeze({ data: undefined, error: null, loading: true });

/**
 * useQuery(sql, params, options) runs sql and re-runs it after every
 * committed write (from any tab) to a table it reads (db.watch). It returns
 * { data, error, loading }: data is the rows (or { columns, rows } with
 * rowMode "array"), kept while a changed query loads; the object changes
 * only when one of them does. Params are compared by value, so a new array
 * literal on every render does not re-subscribe. Unmounting stops the watch.
 */
export function useQuery(sql, params, options) {
  const db = useDatabase();
  const rowMode = options?.rowMode ?? "object";
  const key = paramsKey(params);
  const paramsNow = useRef(params);
  paramsNow.current = params;
  const [state, setState] = useState(LOADING);
  useEffect(() => {
    let live = true;
    setState((s) => (s.loading ? s : { data: s.data, error: s.error, loading: true }));
    const onRows = (data) => live && setState({ data, error: null, loading: false });
    const onError = (error) => live && setState((s) => ({ data: s.data, error, loading: false }));
    let stop = () => {};
    try {
      stop = db.watch(sql, paramsNow.current, onRows, { rowMode, onError });
    } catch (e) {
      onError(e);
    }
    return () => {
      live = false;
      stop();
    };
  }, [db, sql, key, rowMode]);
  return state;
}

// paramsKey is a string equal for equal parameter values (bigint, bytes
// and Dates included).
function paramsKey(params) {
  if (params == null) return "";
  return JSON.stringify(params, (_, v) => {
    if (typeof v === "bigint") return { $bigint: v.toString() };
    if (v instanceof Uint8Array) return { $bytes: Array.from(v) };
    if (v === undefined) return { $undefined: true };
    return v;
  });
}

// The parts of undici skiff uses, imported one by one. undici's index also loads fetch,
// WebSocket and cookies, and those load Node's own copy of undici: ~50 ms of every start,
// for nothing skiff calls. Types still come from the package's own declarations. These are
// undici's internal paths: package.json pins its exact version.
import type * as Undici from 'undici';
import DispatcherModule from 'undici/lib/dispatcher/dispatcher.js';
import PoolModule from 'undici/lib/dispatcher/pool.js';
import errorsModule from 'undici/lib/core/errors.js';
import requestModule from 'undici/lib/api/api-request.js';

export const Pool = PoolModule as typeof Undici.Pool;
/** The base class of dispatchers (record and replay extend it). */
export const DispatcherBase = DispatcherModule as typeof Undici.Dispatcher;
export const errors = errorsModule as typeof Undici.errors;
/** `dispatcher.request()` for any Dispatcher (undici's index adds it to the prototype): it only calls `this.dispatch()`. */
export const request = requestModule as (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;

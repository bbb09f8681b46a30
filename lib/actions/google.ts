import { googleRequestOptions } from '../providers/google';

/**
 * The per-request options of the actions' Google calls: googleRequestOptions, on Node's own fetch.
 * gaxios otherwise sends through node-fetch 3, which, given a signal that is already aborted (a
 * timeout that fired while the request waited for its turn), destroys the request's body stream with
 * an 'error' nobody listens to, and that ends the process. Syncs only read (no body); actions write.
 */
export function writeOptions(accessToken: string, signal: AbortSignal) {
  return { ...googleRequestOptions(accessToken, signal), fetchImplementation: fetch };
}

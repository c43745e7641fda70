import {
  authenticate,
  type IngestCredentials,
  type RouteAuth,
  SIGNATURE_HEADER,
  signatureRefusedBeforeBody,
} from './authenticate';
import { type IngestRequest, type IngestResponse, MAX_UNAUTHENTICATED_BODY_BYTES, problem } from './http';

/** How a route is entered: its auth kind and the most body it takes from a caller it let in. */
export type RouteAccess = {
  auth: RouteAuth;
  maxBodyBytes: number;
  /** For `own` routes: the header that carries the route's own signature over the body. */
  bodySignatureHeader?: string;
};

/** Before the body: refuse now, or read at most `maxBytes` of it (more is answered 413 with `rule`). */
export type Admission = { refuse: IngestResponse } | { maxBytes: number; rule: string };

/**
 * Decides on the headers alone, before a byte of the body is read, what a request may send: a front door
 * that reads bodies itself (the local HTTP server) asks this first, so an unauthenticated caller cannot make
 * it buffer megabytes. A bearer token or gateway identity is checked here, and a wrong or missing one is
 * refused at once; a signature covers the body, so only its headers and timestamp are checked here and the
 * body is read up to the route's limit; anything else may send at most 64 KiB. The ingest app checks
 * everything again on the whole request, so this only ever refuses earlier, never lets more in.
 * `access` undefined: no such route (the app answers 404 or 405 on an empty-enough body).
 */
export function admit(
  head: IngestRequest,
  access: RouteAccess | undefined,
  credentials: IngestCredentials,
): Admission {
  const unauthenticated = {
    maxBytes: Math.min(access?.maxBodyBytes ?? Number.POSITIVE_INFINITY, MAX_UNAUTHENTICATED_BODY_BYTES),
    rule: `at most ${kib(MAX_UNAUTHENTICATED_BODY_BYTES)} before the request is authenticated`,
  };
  const route = {
    maxBytes: access?.maxBodyBytes ?? 0,
    rule: `${head.method} ${head.path} takes at most ${kib(access?.maxBodyBytes ?? 0)}`,
  };
  let admission: Admission;
  switch (access?.auth) {
    case undefined:
    case 'none':
      admission = unauthenticated;
      break;
    case 'own':
      admission =
        access.bodySignatureHeader !== undefined && head.headers[access.bodySignatureHeader] !== undefined
          ? route
          : unauthenticated;
      break;
    case 'ingest':
    case 'operator': {
      const bySignature =
        access.auth === 'ingest' &&
        head.headers.authorization === undefined &&
        head.headers[SIGNATURE_HEADER] !== undefined;
      const refused = bySignature
        ? signatureRefusedBeforeBody(head, credentials)
        : refusalOf(authenticate(head, credentials, access.auth));
      admission = refused === undefined ? route : { refuse: unauthorized(refused) };
      break;
    }
  }
  if ('refuse' in admission) return admission;
  const declared = Number(head.headers['content-length']);
  if (Number.isFinite(declared) && declared > admission.maxBytes) {
    return { refuse: bodyTooLarge(`is ${declared} bytes`, admission.rule) };
  }
  return admission;
}

const refusalOf = (auth: ReturnType<typeof authenticate>) => (auth.ok ? undefined : auth.reason);

/** The 401 of every `ingest` and `operator` route. */
export const unauthorized = (reason: string): IngestResponse =>
  problem(401, { error: 'unauthorized', message: reason }, { 'www-authenticate': 'Bearer' });

/** `size`: "is 5242880 bytes" or "is larger than 65536 bytes". */
export const bodyTooLarge = (size: string, rule: string): IngestResponse =>
  problem(413, { error: 'body_too_large', message: `the body ${size}; ${rule}` });

const kib = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;

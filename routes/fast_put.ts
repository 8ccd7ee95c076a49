/**
 * The hot path of `PUT /v1/kv/{key}`, in front of Hono: the same checks and
 * answers as the route in `kv.ts` (it shares their functions), without the
 * router and the middleware chain, which cost the leader's event loop about
 * a third of its time per put and delayed the peer frames queued behind a
 * burst of puts. Only the plain case takes it: no query string, a declared
 * length within the limit, a JSON media type. Everything else, and a put
 * this node must hand to another over HTTP, goes to the full app.
 * @module
 */
import { NotLeaderError } from "../src/engine/errors.ts";
import { isJsonMediaType, parseJson, readBody } from "./body.ts";
import { parsersRewrite } from "./forward.ts";
import type { AppDeps } from "./deps.ts";
import { errorResponse, toApiError } from "./errors.ts";
import { KEY_ROUTE, PREFIX, putAnswer, putCommand } from "./kv.ts";
import { splitUrl } from "./validate.ts";

/** Answers a request, or returns null to leave it to the full app. */
export type FastPath = (req: Request) => Promise<Response> | null;

/**
 * Records the answer as the app's `observe` middleware does; `hasNodeHeaders`:
 * the answer already carries the node and leader headers.
 */
export type Observe = (
  res: Response,
  route: string,
  method: string,
  t0: number,
  hasNodeHeaders?: boolean,
) => Response;

const DIGITS = /^\d{1,16}$/;

/** The node headers `observe` adds, for an answer that sets them itself. */
export function nodeHeaders(deps: AppDeps): Record<string, string> {
  const leader = deps.engine.leader();
  return leader
    ? { "x-raftkv-node": deps.engine.id, "x-raftkv-leader": leader.id }
    : { "x-raftkv-node": deps.engine.id };
}

/** See the module doc. `full` serves what the fast path hands back. */
export function createFastPut(
  deps: AppDeps,
  full: (req: Request) => Response | Promise<Response>,
  observe: Observe,
): FastPath {
  const { engine, config } = deps;

  async function put(req: Request, t0: number): Promise<Response> {
    let bytes: Uint8Array<ArrayBuffer> | undefined;
    let res: Response;
    try {
      bytes = await readBody(() => req.arrayBuffer());
      const cmd = putCommand({
        url: req.url,
        ifMatch: req.headers.get("if-match") ?? undefined,
        ifNoneMatch: req.headers.get("if-none-match") ?? undefined,
        json: parseJson(bytes),
      }, config);
      const w = await engine.asyncWrite(cmd);
      // One Headers build with the node headers in it, not two set() calls after.
      return observe(putAnswer(cmd, w, nodeHeaders(deps)), KEY_ROUTE, "PUT", t0, true);
    } catch (err) {
      // Nothing was proposed: the full app forwards it over HTTP.
      if (err instanceof NotLeaderError && err.leaderUrl && bytes) {
        return await full(
          new Request(req.url, { method: "PUT", headers: req.headers, body: bytes }),
        );
      }
      const api = toApiError(err);
      if (api.status === 500) console.error(`PUT ${req.url} failed:`, err);
      res = errorResponse(api);
    }
    return observe(res, KEY_ROUTE, "PUT", t0);
  }

  return (req) => {
    if (req.method !== "PUT") return null;
    const { path, query } = splitUrl(req.url);
    if (query !== "" || !path.startsWith(PREFIX) || path.length === PREFIX.length) return null;
    // A put handed on to the app goes as a new Request, whose URL parser
    // would rewrite these (a `\` to `/`, dot segments collapsed): the app
    // takes such a request as it came.
    if (parsersRewrite(path)) return null;
    const length = req.headers.get("content-length");
    if (length === null || !DIGITS.test(length) || Number(length) > config.maxBodyBytes) {
      return null;
    }
    if (!isJsonMediaType(req.headers.get("content-type") ?? undefined)) return null;
    if (req.headers.has("content-encoding")) return null; // the app answers it
    return put(req, performance.now());
  };
}

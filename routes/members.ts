/**
 * Membership routes (API.md §6): add and remove members through the log,
 * and move leadership. A follower forwards them like writes.
 * @module
 */
import { Hono } from "hono";
import { jsonBody } from "./body.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { fromZod } from "./errors.ts";
import { indexHeader, json } from "./respond.ts";
import { AddMemberBody, NodeIdParam, NoQuery, TransferLeaderBody } from "./schemas.ts";
import { parseQuery } from "./validate.ts";

/** Builds `/v1/cluster/members` and `/v1/cluster/leader` over `deps.engine`. */
export function createMemberRoutes(deps: AppDeps): Hono<AppEnv> {
  const { engine, config } = deps;
  const app = new Hono<AppEnv>();
  /** The answer of a membership change: its log index and the members now. */
  const changed = (index: number) =>
    json(
      JSON.stringify({ index, members: engine.status().members }),
      indexHeader(index),
    );

  app.post("/v1/cluster/members", jsonBody(config.maxBodyBytes), async (c) => {
    parseQuery(c.req.url, NoQuery);
    const m = AddMemberBody.parse(c.get("json"));
    return changed(await engine.addMember(m));
  });

  app.delete("/v1/cluster/members/:id", async (c) => {
    parseQuery(c.req.url, NoQuery);
    const id = NodeIdParam.safeParse(c.req.param("id"));
    if (!id.success) throw fromZod(id.error);
    return changed(await engine.removeMember(id.data));
  });

  app.post("/v1/cluster/leader", jsonBody(config.maxBodyBytes), async (c) => {
    parseQuery(c.req.url, NoQuery);
    const { id } = TransferLeaderBody.parse(c.get("json"));
    await engine.transferLeader(id);
    return json(JSON.stringify({ leader: id }));
  });
  return app;
}

/**
 * Builders for hand-made histories in tests. A span `[start, end]` is an ok
 * op; `[start]` an unknown-outcome (info) op; `fail: true` a failed one.
 * @module
 */

import type { Compare, Consistency, Json, Op, Status } from "./history.ts";

export type Span = readonly [number, number] | readonly [number];

interface Common {
  readonly key?: string;
  /** The answer's x-raftkv-index. */
  readonly index?: number;
  readonly process?: number;
  readonly fail?: boolean;
}

export class Builder {
  readonly ops: Op[] = [];
  #id = 0;

  /** A read; `value` undefined = not found. */
  get(
    value: Json | undefined,
    span: Span,
    o: Common & { mod?: number; consistency?: Consistency } = {},
  ): Op {
    const result = value === undefined
      ? { found: false as const }
      : { found: true as const, value, modIndex: o.mod ?? 0 };
    const consistency = o.consistency ?? "linearizable";
    return this.#add({ f: "get", consistency }, span, o, result);
  }

  put(value: Json, span: Span, o: Common & { mod?: number } = {}): Op {
    return this.#add({ f: "put", value }, span, o, { modIndex: o.mod ?? 0 });
  }

  /** A conditional put; `ok` false = the compare did not hold. */
  cas(
    compare: Compare,
    value: Json,
    span: Span,
    o: Common & { ok?: boolean; mod?: number } = {},
  ): Op {
    const succeeded = o.ok ?? true;
    const result = succeeded && o.mod !== undefined
      ? { succeeded, modIndex: o.mod }
      : { succeeded };
    return this.#add({ f: "cas", compare, value }, span, o, result);
  }

  del(span: Span, deleted: 0 | 1 = 1, o: Common = {}): Op {
    return this.#add({ f: "delete" }, span, o, { deleted });
  }

  #add(body: object, span: Span, o: Common, result: object): Op {
    const status: Status = o.fail ? "fail" : span.length === 2 ? "ok" : "info";
    const end = status === "info" ? Infinity : span[1] ?? Infinity;
    const op = {
      ...body,
      id: this.#id++,
      process: o.process ?? 0,
      key: o.key ?? "k",
      status,
      start: span[0],
      end,
      ...(status === "ok" ? { result } : { error: status }),
      ...(o.index === undefined ? {} : { index: o.index }),
    } as Op;
    this.ops.push(op);
    return op;
  }
}
